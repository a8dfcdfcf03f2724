/**
 * TOFD: L. Zhang, Y. Shi, Z. Shi, K. Ma, C. Bao, "Task-Oriented Feature Distillation", NeurIPS 2020
 * (https://papers.nips.cc/paper/2020/hash/a96b65a721e561e1e3de768ac819ffbb-Abstract.html).
 * Code: https://github.com/ArchipLab-LinfengZhang/Task-Oriented-Feature-Distillation.
 *
 * Features are distilled after a transformation learned by the task: teacher and student carry
 * auxiliary classifiers after their shallow stages (separable convolutions, pooling, a linear
 * head; see shared/sepconv-heads.ts), trained by the classification loss, and the pooled vectors
 * feeding those heads are the distilled features. With heads k = 0 (the network's own classifier
 * on its pooled feature) to K-1 (deepest first, K = the smaller stage count of the pair), a
 * bias-free linear link L_k per head, and T growing over the run:
 *   loss = sum_k [ CE(z_s^k, y) + H(softmax(z_t^k / T), softmax(z_s^k / T))
 *                  + alpha * ||L_k f_s^k - f_t^k||_F ]
 *        + beta * sum_k ( ||L_k L_k^T - I||_F + ||L_k^T L_k - I||_F ),
 *   T = 1 + t * (epoch + 1) / epochs,
 * with H the soft cross-entropy (no T^2) and both norms the plain (not squared) Frobenius norm of
 * the whole batch matrix. The orthogonal term keeps the links close to orthogonal maps.
 *
 * Defaults and details are the authors' code's (distill.py, utils.py, models/resnet.py) at
 * fcfd4be5ff773d2d27adccdc7df206cdf502800e: alpha = 0.05, beta = 0.03, t = 3 (T from 1.012 to 4 over
 * 250 epochs), CE and KD weights 1, links nn.Linear(d_s, d_t, bias=False) at PyTorch's default
 * initialisation, trained with the student (weight decay 5e-4). That commit moved the optimiser
 * step out of the batch loop (one step per epoch, a bug); the previous commit,
 * edaac39ebc364b849a4fefd482a2804d307f769e, steps on every batch but has no orthogonal loss, which the
 * paper describes. Here the step is per batch and the orthogonal loss is included.
 *
 * The teacher must carry trained auxiliary heads. The authors load them with the teacher's
 * weights (trained beforehand; no script is public). Here a first stage (`tofd-teacher-heads`,
 * headEpochs of a 240-epoch run, the protocol's schedule) trains the teacher's heads with CE on
 * each head over the frozen, eval-mode teacher; the heads are then fixed (batch norms in eval mode)
 * for the main stage.
 */
import { crossEntropy, defineMethod, moduleSeed, ParamModule, scaleEpochs, softCrossEntropy, stageShapes } from '@kdbench/core';
import { tf } from '@kdbench/engine';
import { layers, type FeatureShape, type ForwardResult } from '@kdbench/models';
import { SepConvHeads, type HeadOutput } from './shared/sepconv-heads.js';

/** The distillation temperature at a 0-based epoch of `epochs`: 1 + t (epoch + 1) / epochs. */
export function tofdTemperature(t: number, epoch: number, epochs: number): number {
  return 1 + (t * (epoch + 1)) / epochs;
}

/** sqrt(sum x^2) of the whole tensor, with a finite gradient at 0. */
function frobenius(x: tf.Tensor): tf.Scalar {
  return tf.sqrt(tf.maximum(tf.sum(tf.square(x)), 1e-24)) as tf.Scalar;
}

/** ||f_s W - f_t||_F over the whole batch, for a link W stored [d_s, d_t] (PyTorch's weight transposed). */
export function linkedFeatureDistance(fs: tf.Tensor2D, ft: tf.Tensor2D, w: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => frobenius(tf.sub(tf.matMul(fs, w), ft)));
}

/** ||W W^T - I||_F + ||W^T W - I||_F. */
export function orthogonalPenalty(w: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const [a, b] = w.shape;
    return tf.add(
      frobenius(tf.sub(tf.matMul(w, w, false, true), tf.eye(a))),
      frobenius(tf.sub(tf.matMul(w, w, true, false), tf.eye(b))),
    ) as tf.Scalar;
  });
}

/** The bias-free linear links from the student's head features to the teacher's. */
class Links extends ParamModule {
  readonly weights: tf.Variable[];

  constructor(seed: number, pairs: readonly [number, number][]) {
    super(seed);
    this.weights = pairs.map(([ds, dt], k) => this.scope.variable(`link${k}`, [ds, dt], layers.uniformInit(layers.torchDefaultBound(ds))));
  }
}

/** Head 0 (the network's own classifier and pooled feature) followed by the auxiliary heads. */
function allHeads(out: ForwardResult, aux: HeadOutput[]): HeadOutput[] {
  return [{ feature: out.embedding, logits: out.logits }, ...aux];
}

export const tofd = defineMethod({
  id: 'tofd',
  title: 'Task-oriented feature distillation (features of task-trained auxiliary heads)',
  paper: {
    authors: 'L. Zhang, Y. Shi, Z. Shi, K. Ma, C. Bao',
    title: 'Task-Oriented Feature Distillation',
    venue: 'NeurIPS',
    year: 2020,
    url: 'https://papers.nips.cc/paper/2020/hash/a96b65a721e561e1e3de768ac819ffbb-Abstract.html',
  },
  family: 'feature',
  knowledge: 'feature',
  scheme: 'offline',
  teacher: 'required',
  defaults: { alpha: 0.05, beta: 0.03, t: 3, headEpochs: 60 },
  hyperDocs: {
    alpha: 'weight of the feature distance ||L f_s - f_t||_F of each head (not squared, over the whole batch)',
    beta: 'weight of the orthogonal loss on the links',
    t: 'temperature growth: T = 1 + t * (epoch + 1) / epochs',
    headEpochs: "epochs of the stage training the teacher's auxiliary heads, in a 240-epoch run (scaled to the run, at least 1)",
  },
  deviations:
    "The teacher's auxiliary heads are trained here in a first stage over the frozen teacher (CE per head, headEpochs "
    + 'of 240 scaled to the run, the protocol\'s schedule); the authors load a teacher whose heads were trained beforehand, '
    + 'presumably jointly with its backbone, by a script that is not public. The optimiser steps on every batch with the '
    + 'orthogonal loss included (the authors\' latest commit steps once per epoch, a bug; the one before has no orthogonal '
    + 'loss). The teacher and its heads run in eval mode (the authors leave the teacher\'s batch norms in train mode). '
    + 'Heads are paired deepest first on the smaller stage count of the pair, and a separable-conv block may keep the '
    + 'size (stride 1) where a zoo network does (the authors\' ResNets halve it at every stage). The authors\' recipe '
    + '(250 epochs, lr 0.1 divided by 10 at 80/160/240, batch 128, Cutout) is replaced by the run\'s protocol.',
  create: ({ hp, studentShapes, teacherShapes, numClasses, rng, epochs }) => {
    for (const k of ['alpha', 'beta', 't'] as const) {
      if (!(hp[k] >= 0)) throw new Error(`tofd: ${k} must be >= 0, got ${hp[k]}`);
    }
    if (!(hp.headEpochs > 0)) throw new Error(`tofd: headEpochs must be > 0, got ${hp.headEpochs}`);
    const sStages = stageShapes(studentShapes).slice(1);
    const tStages = stageShapes(teacherShapes).slice(1);
    const aux = Math.min(sStages.length, tStages.length) - 1;
    if (aux < 0) throw new Error('tofd: student and teacher need at least one stage each');
    const studentHeads = new SepConvHeads(moduleSeed(rng, 'tofd.studentHeads'), sStages, aux, numClasses, 'tofd (student)');
    const teacherHeads = new SepConvHeads(moduleSeed(rng, 'tofd.teacherHeads'), tStages, aux, numClasses, 'tofd (teacher)');
    // head 0 reads the pooled embedding; the auxiliary heads pool a map of the deepest stage's width
    const dims = (who: string, stages: FeatureShape[], shapes: readonly FeatureShape[]) => {
      const embedding = shapes.find((s) => s.name === 'embedding');
      if (!embedding) throw new Error(`tofd: the ${who}'s feature shapes have no 'embedding' entry`);
      return [embedding.channels, ...Array.from({ length: aux }, () => stages.at(-1)!.channels)];
    };
    const sDims = dims('student', sStages, studentShapes);
    const tDims = dims('teacher', tStages, teacherShapes);
    const links = new Links(moduleSeed(rng, 'tofd.links'), sDims.map((d, k): [number, number] => [d, tDims[k]!]));
    return {
      parts: {
        studentHeads: {
          trainableVariables: () => studentHeads.trainableVariables(),
          buffers: () => studentHeads.variablesByName('tofd.studentHeads', 'statistics'),
          dispose: () => studentHeads.dispose(),
        },
        links,
        // trained in the first stage only: kept and checkpointed, never optimised in the main stage
        teacherHeads: { buffers: () => teacherHeads.variablesByName('tofd.teacherHeads', 'all'), dispose: () => teacherHeads.dispose() },
      },
      procedure: {
        stages: [{
          name: 'tofd-teacher-heads',
          epochs: scaleEpochs(hp.headEpochs, epochs),
          schedule: true,
          variables: () => teacherHeads.trainableVariables(),
          losses: (io) => ({
            ce: tf.addN(teacherHeads.apply(io.teacher.features, true).map((h) => crossEntropy(h.logits, io.labels))) as tf.Scalar,
          }),
        }],
      },
      losses: (io) => {
        const T = tofdTemperature(hp.t, io.epoch, epochs);
        const s = allHeads(io.student, studentHeads.apply(io.student.features, true));
        const t = allHeads(io.teacher, teacherHeads.apply(io.teacher.features, false));
        const sum = (f: (k: number) => tf.Scalar) => tf.addN(s.map((_, k) => f(k))) as tf.Scalar;
        return {
          ce: sum((k) => crossEntropy(s[k]!.logits, io.labels)),
          kd: sum((k) => softCrossEntropy(s[k]!.logits, t[k]!.logits, T)),
          feature: tf.mul(sum((k) => linkedFeatureDistance(s[k]!.feature, t[k]!.feature, links.weights[k] as tf.Tensor2D)), hp.alpha),
          orthogonal: tf.mul(sum((k) => orthogonalPenalty(links.weights[k] as tf.Tensor2D)), hp.beta),
        };
      },
    };
  },
});
