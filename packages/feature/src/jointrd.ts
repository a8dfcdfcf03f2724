/**
 * JointRD: G. Li, J. Zhang, Y. Wang, C. Liu, M. Tan, Y. Lin, W. Zhang, J. Feng, T. Zhang, "Residual
 * Distillation: Towards Portable Deep Neural Networks without Shortcuts", NeurIPS 2020
 * (https://proceedings.neurips.cc/paper/2020/hash/657b96f0592803e25a4f07166fff289a-Abstract.html).
 * Code: leoozy/JointRD_Neurips2020 @ 745b581.
 *
 * A plain (shortcut-free) student learns through the later stages of a ResNet teacher: the
 * student's feature at the end of each stage k < n also runs through the teacher's stages k+1..n,
 * pooling and classifier (the teacher in eval mode, its weights fixed), giving logits z_k, so the
 * student's early stages get gradients that pass the teacher's shortcuts. With the student's own
 * logits z_S,
 *   loss = w * [ m(e) * sum_k CE(z_k, y) + CE(z_S, y) ],
 *   m(e) = dc + (1 - dc) (1 + cos(pi e / E)) / 2 for epochs e <= E, then dc,
 * so the teacher's paths count less as training goes on. Read from the code's `JOINT` branch
 * (process/multikd_train.py: w = 1/4, m = Cosine(min dc, max 1, epoch_max 60) of a 200-epoch run;
 * model/distillerkd.py `forward_ta1`: paths from the ends of stages 1-3, through the teacher's
 * `forward_from`); dc = 0.5 from the README's CIFAR command (script/CIFAR_plaincnn.sh).
 */
import { crossEntropy, defineMethod, stageShapes } from '@kdbench/core';
import { tf } from '@kdbench/engine';
import type { FeatureShape } from '@kdbench/models';

/** The weight of the teacher paths at 0-based epoch `epoch`: cosine from 1 to `dc` over `decayEpochs`, then dc. */
export function pathWeight(epoch: number, dc: number, decayEpochs: number): number {
  if (epoch > decayEpochs) return dc;
  return dc + ((1 - dc) * (1 + Math.cos((Math.PI * epoch) / decayEpochs))) / 2;
}

/** The features ([stem, stage1, ...] indices) whose student output feeds the teacher: every stage end but the last. */
function splitPoints(student: readonly FeatureShape[], teacher: readonly FeatureShape[], teacherId: string): number[] {
  const s = stageShapes(student);
  const t = stageShapes(teacher);
  if (s.length !== t.length) throw new Error(`jointrd: student and teacher have different numbers of stages (${s.length - 1} vs ${t.length - 1})`);
  if (s.length < 3) throw new Error('jointrd: the networks need at least two stages (paths start after every stage but the last)');
  const points = Array.from({ length: s.length - 2 }, (_, i) => i + 1);
  for (const k of points) {
    const [a, b] = [s[k]!, t[k]!];
    if (a.channels !== b.channels || a.height !== b.height || a.width !== b.width) {
      throw new Error(
        `jointrd: the student's ${a.name} is ${a.channels}x${a.height}x${a.width} and the teacher's (${teacherId}) ${b.channels}x${b.height}x${b.width}; ` +
          "JointRD runs the student's stage outputs through the teacher's later stages, so they must have the same shape",
      );
    }
  }
  return points;
}

export const jointrd = defineMethod({
  id: 'jointrd',
  title: 'Residual distillation (plain student through the teacher\'s later stages)',
  paper: {
    authors: 'G. Li, J. Zhang, Y. Wang, C. Liu, M. Tan, Y. Lin, W. Zhang, J. Feng, T. Zhang',
    title: 'Residual Distillation: Towards Portable Deep Neural Networks without Shortcuts',
    venue: 'NeurIPS',
    year: 2020,
    url: 'https://proceedings.neurips.cc/paper/2020/hash/657b96f0592803e25a4f07166fff289a-Abstract.html',
  },
  family: 'feature',
  knowledge: 'feature',
  scheme: 'offline',
  teacher: 'required',
  // the losses never read io.teacher: the paths call the teacher's forwardFrom
  teacherOutputs: 'logits',
  defaults: { dc: 0.5, decay: 0.3, w: 0.25 },
  hyperDocs: {
    dc: "final weight of the teacher paths' cross-entropies (the README's CIFAR command: 0.5)",
    decay: 'fraction of the run over which the path weight falls from 1 to dc by a half cosine (the code: 60 of 200 epochs)',
    w: "overall weight of the loss (the code's JOINT branch: 1/4, one over the number of outputs)",
  },
  deviations:
    "The released code contradicts itself: the README's CIFAR command runs the 'TA' procedure, which computes the teacher " +
    "paths but trains on the student's cross-entropy alone (its feature term has weight 0), while the paper's hybrid paths " +
    "are trained only in the 'JOINT' branch, which also trains the teacher from scratch beside the student. This follows the " +
    "JOINT branch's loss with a pretrained, fixed teacher (offline, as the survey lists it and as the README's step 2 " +
    "pretrains it) and without the feature (margin) term, whose CIFAR weight is 0. The code's plain CNN keeps the 1x1 " +
    "projection shortcut of the first block of stages 2-4; the method runs whatever student it is given (the zoo's " +
    'plaincnn18/34 have no shortcuts at all).',
  create: ({ hp, teacher, studentShapes, teacherShapes, epochs }) => {
    if (!(Number.isFinite(hp.dc) && hp.dc >= 0 && hp.dc <= 1)) throw new Error(`jointrd: dc must be a number in [0, 1], got ${hp.dc}`);
    if (!(Number.isFinite(hp.decay) && hp.decay > 0 && hp.decay <= 1)) throw new Error(`jointrd: decay must be a fraction of the run in (0, 1], got ${hp.decay}`);
    if (!(Number.isFinite(hp.w) && hp.w > 0)) throw new Error(`jointrd: w must be a positive number, got ${hp.w}`);
    if (!teacher.forwardFrom) {
      throw new Error(`jointrd: the teacher '${teacher.id}' cannot run from an intermediate stage (forwardFrom); ResNets, plain CNNs, ResNeXts, MobileNet and ShuffleNetV1 can`);
    }
    const forwardFrom = teacher.forwardFrom.bind(teacher);
    const points = splitPoints(studentShapes, teacherShapes, teacher.id);
    const decayEpochs = hp.decay * epochs;
    return {
      losses: (io) => {
        const m = pathWeight(io.epoch, hp.dc, decayEpochs);
        const paths = points.map((k) => crossEntropy(forwardFrom(k, io.student.features[k]!.post, { training: false }).logits, io.labels));
        return {
          ce: tf.mul(crossEntropy(io.student.logits, io.labels), hp.w) as tf.Scalar,
          paths: tf.mul(tf.addN(paths), hp.w * m) as tf.Scalar,
        };
      },
    };
  },
});
