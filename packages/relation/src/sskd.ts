/**
 * SSKD: G. Xu, Z. Liu, X. Li, C. C. Loy, "Knowledge Distillation Meets Self-Supervision", ECCV 2020
 * (arXiv:2006.07114, https://arxiv.org/abs/2006.07114). Code: https://github.com/xuguodong03/SSKD.
 *
 * Each image of a batch of B also appears rotated by 90, 180 and 270 degrees. Teacher and student
 * carry a projection head (linear - ReLU - linear on the pooled feature), and the self-supervision
 * task is contrastive: the cosine similarities sim[a, j] between the head output of each rotated
 * image a (3B rows) and of each unrotated image j (B columns), read as logits, should pick a's
 * source image. The teacher's head is first trained on this task over the frozen teacher (stage
 * `sskd-teacher-head`). The student, forwarded once on all 4B images in training mode, then learns
 *   loss = w_ce CE(s_nor, y) + w_kd KD_T1(s_nor, t_nor) + w_tf KD_T2(s_aug, t_aug)[kept_tf]
 *        + w_ss KD_T3(sim_s, sim_t)[kept_ss],
 * KD_T = T^2 KL(softmax(t/T) || softmax(s/T)) averaged over the rows used. Only some rotated rows
 * are distilled: a row's error level is the rank of its correct column (its label for the logits,
 * its source image for the similarities) in the teacher's row, 0 when the teacher is right; all
 * correct rows are kept, and of the W wrong ones the floor(ratio W) of lowest rank (ties by row).
 *
 * Defaults are the authors' code's at 661b972c124a83c32dcd0e203390ba637075fe92 (student.py, wrapper.py,
 * cifar.py, command.sh): w = 0.1 / 0.9 / 2.7 / 10, T1 = T2 = 4, T3 = 0.5, ratio_tf = 1, ratio_ss = 0.75;
 * the head stage runs 60 epochs (of the student's 240) at lr 0.05, divided by 10 at 30 and 45, over
 * the teacher in eval mode with its backbone frozen; rotations are numpy's rot90 (counter-clockwise).
 */
import {
  crossEntropy, defineMethod, l2NormalizeRows, learningRate, moduleSeed, ParamModule, scaleEpochs, softTargetKL, stopGradient,
  type LossTerms,
} from '@kdbench/core';
import { tf } from '@kdbench/engine';
import { layers, type ForwardResult } from '@kdbench/models';

/**
 * The images rotated counter-clockwise by 90, 180 and 270 degrees (numpy's rot90 in the H-W plane),
 * [B, H, W, C] -> [3B, H, W, C] in sample-major order: [x0 90, x0 180, x0 270, x1 90, ...].
 */
export function rotatedViews(x: tf.Tensor4D): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  if (h !== w) throw new Error(`sskd: rotations need square images, got ${h}x${w}`);
  return tf.tidy(() => {
    const t = tf.transpose(x, [0, 2, 1, 3]);
    const views = [tf.reverse(t, 1), tf.reverse(x, [1, 2]), tf.reverse(t, 2)];
    return tf.reshape(tf.stack(views, 1), [3 * b, h, w, c]) as tf.Tensor4D;
  });
}

/** cos(a_i, n_j) for rows a [R, D] and n [B, D]: [R, B]. */
export function cosineTo(a: tf.Tensor2D, n: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.matMul(l2NormalizeRows(a), l2NormalizeRows(n), false, true));
}

/**
 * The rows distilled under error-level ranking: `scores` [R, M] (row-major), `correct[r]` the
 * correct column of row r. rank(r) = number of columns scoring above the correct one; every row of
 * rank 0 is kept, and of the W others the floor(ratio * W) of lowest rank (ties: lower row first).
 * Returns the kept rows in increasing order.
 */
export function keptRows(scores: Float32Array | number[], rows: number, correct: ArrayLike<number>, ratio: number): Int32Array {
  const m = scores.length / rows;
  const rank = Array.from({ length: rows }, (_, r) => {
    const own = scores[r * m + correct[r]!]!;
    let above = 0;
    for (let c = 0; c < m; c++) if (scores[r * m + c]! > own) above++;
    return above;
  });
  const wrong = rank.filter((v) => v > 0).length;
  const keep = rows - wrong + Math.floor(ratio * wrong);
  const order = rank.map((v, r) => [v, r] as const).sort((p, q) => p[0] - q[0] || p[1] - q[1]);
  return Int32Array.from(order.slice(0, keep).map(([, r]) => r).sort((p, q) => p - q));
}

/** Linear(d, d) - ReLU - Linear(d, d), PyTorch's default initialisation (the authors' `proj_head`). */
export class ProjectionHead extends ParamModule {
  private readonly l1: layers.Linear;
  private readonly l2: layers.Linear;

  constructor(seed: number, dim: number) {
    super(seed);
    this.l1 = new layers.Linear(this.scope.child('0'), dim, dim);
    this.l2 = new layers.Linear(this.scope.child('2'), dim, dim);
  }

  apply(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => this.l2.apply(tf.relu(this.l1.apply(x))));
  }

  /** Every variable by stable name under `prefix`. */
  variablesByName(prefix: string): Record<string, tf.Variable> {
    return Object.fromEntries(this.store.entries.map((e) => [`${prefix}/${e.name}`, e.variable]));
  }
}

/** Rows [start, start + n) of a 2-D tensor. */
const rowsOf = (x: tf.Tensor2D, start: number, n: number) => tf.slice(x, [start, 0], [n, -1]) as tf.Tensor2D;

/** For each of 3B rotated rows (sample-major), its source image: 0, 0, 0, 1, 1, 1, ... */
const sourceOf = (b: number) => Int32Array.from({ length: 3 * b }, (_, a) => Math.floor(a / 3));

/** T^2 KL(teacher || student) over the kept rows (zero when none is kept). */
function keptKL(s: tf.Tensor2D, t: tf.Tensor2D, kept: Int32Array, T: number): tf.Scalar {
  if (kept.length === 0) return tf.scalar(0);
  return tf.tidy(() => softTargetKL(tf.gather(s, kept) as tf.Tensor2D, tf.gather(t, kept) as tf.Tensor2D, T));
}

/** Logits and projection-head outputs of one network on 4B rows: B unrotated, then 3B rotated (sample-major). */
export interface ViewOutputs {
  readonly logits: tf.Tensor2D;
  readonly head: tf.Tensor2D;
}

/** The similarity logits [3B, B] of the rotated rows' head outputs to the unrotated ones'. */
function similarities(head: tf.Tensor2D, b: number): tf.Tensor2D {
  return cosineTo(rowsOf(head, b, 3 * b), rowsOf(head, 0, b));
}

/** The self-supervision task of the first stage: CE of the similarity logits against each rotated row's source. */
export function selfSupervisionLoss(head: tf.Tensor2D): tf.Scalar {
  const b = head.shape[0] / 4;
  return tf.tidy(() => crossEntropy(similarities(head, b), tf.tensor1d(sourceOf(b), 'int32')));
}

/** The loss weights, temperatures and kept shares of the main stage. */
export interface SskdWeights {
  readonly ceWeight: number;
  readonly kdWeight: number;
  readonly tfWeight: number;
  readonly ssWeight: number;
  readonly kdT: number;
  readonly tfT: number;
  readonly ssT: number;
  readonly ratioTf: number;
  readonly ratioSs: number;
}

/** The four weighted terms from both networks' outputs on the 4B views (the teacher's held fixed). */
export function sskdTerms(hp: SskdWeights, labels: tf.Tensor1D, s: ViewOutputs, t: ViewOutputs): LossTerms {
  const b = labels.shape[0];
  const simS = similarities(s.head, b);
  const simT = stopGradient(similarities(t.head, b));
  const tAug = stopGradient(rowsOf(t.logits, b, 3 * b));
  const y = labels.dataSync();
  const keptTf = keptRows(tAug.dataSync() as Float32Array, 3 * b, Int32Array.from(sourceOf(b), (i) => y[i]!), hp.ratioTf);
  const keptSs = keptRows(simT.dataSync() as Float32Array, 3 * b, sourceOf(b), hp.ratioSs);
  const sNor = rowsOf(s.logits, 0, b);
  return {
    ce: tf.mul(crossEntropy(sNor, labels), hp.ceWeight),
    kd: tf.mul(softTargetKL(sNor, stopGradient(rowsOf(t.logits, 0, b)), hp.kdT), hp.kdWeight),
    tf: tf.mul(keptKL(rowsOf(s.logits, b, 3 * b), tAug, keptTf, hp.tfT), hp.tfWeight),
    ss: tf.mul(keptKL(simS, simT, keptSs, hp.ssT), hp.ssWeight),
  };
}

export const sskd = defineMethod({
  id: 'sskd',
  title: 'Self-supervision KD (rotations, contrastive heads, selective transfer)',
  paper: {
    authors: 'G. Xu, Z. Liu, X. Li, C. C. Loy',
    title: 'Knowledge Distillation Meets Self-Supervision',
    venue: 'ECCV',
    year: 2020,
    url: 'https://arxiv.org/abs/2006.07114',
  },
  family: 'relation',
  knowledge: 'relation',
  scheme: 'offline',
  teacher: 'required',
  defaults: {
    ceWeight: 0.1, kdWeight: 0.9, tfWeight: 2.7, ssWeight: 10, kdT: 4, tfT: 4, ssT: 0.5, ratioTf: 1, ratioSs: 0.75,
    headEpochs: 60, headLr: 0.05,
  },
  hyperDocs: {
    ceWeight: 'weight of the cross-entropy on the unrotated images',
    kdWeight: 'weight of KD on the unrotated images',
    tfWeight: 'weight of KD on the kept rotated images',
    ssWeight: 'weight of KD between the similarity matrices of the kept rotated images',
    kdT: 'temperature of KD on the unrotated images',
    tfT: 'temperature of KD on the rotated images',
    ssT: 'temperature of the similarity KD',
    ratioTf: 'share of the rotated images the teacher classifies wrongly that are still distilled (lowest error level first)',
    ratioSs: 'share of the rotated images whose source the teacher head ranks wrongly that are still distilled',
    headEpochs: "epochs of the stage training the teacher's head, in a 240-epoch run (scaled to the run, at least 1)",
    headLr: "learning rate of the teacher-head stage (divided by 10 at 50% and 75% of it)",
  },
  deviations:
    'The rotated views are rotations of the batch as the trainer augmented it, so the four views of an image share one crop '
    + "(the authors crop each rotated view independently; the flip is shared in both). The error level is the number of "
    + 'columns scoring above the correct one, so tied rows rank by their best position and equal levels are kept in row '
    + "order (the authors' unstable argsort breaks ties arbitrarily).",
  create: ({ hp, student, teacher, studentShapes, teacherShapes, rng, epochs }) => {
    for (const k of ['ceWeight', 'kdWeight', 'tfWeight', 'ssWeight', 'headLr'] as const) {
      if (!(hp[k] >= 0)) throw new Error(`sskd: ${k} must be >= 0, got ${hp[k]}`);
    }
    for (const k of ['kdT', 'tfT', 'ssT', 'headEpochs'] as const) {
      if (!(hp[k] > 0)) throw new Error(`sskd: ${k} must be > 0, got ${hp[k]}`);
    }
    for (const k of ['ratioTf', 'ratioSs'] as const) {
      if (!(hp[k] >= 0 && hp[k] <= 1)) throw new Error(`sskd: ${k} must be in [0, 1], got ${hp[k]}`);
    }
    const dim = (who: string, shapes: readonly { name: string; channels: number }[]) => {
      const e = shapes.find((s) => s.name === 'embedding');
      if (!e) throw new Error(`sskd: the ${who}'s feature shapes have no 'embedding' entry`);
      return e.channels;
    };
    const studentHead = new ProjectionHead(moduleSeed(rng, 'sskd.studentHead'), dim('student', studentShapes));
    const teacherHead = new ProjectionHead(moduleSeed(rng, 'sskd.teacherHead'), dim('teacher', teacherShapes));
    /** The teacher (eval mode) on the unrotated batch, from the trainer, and on its rotations. */
    const teacherViews = (x: tf.Tensor4D, unrotated: ForwardResult): ViewOutputs => {
      const aug = teacher.forward(rotatedViews(x), { training: false });
      return {
        logits: tf.concat([unrotated.logits, aug.logits]) as tf.Tensor2D,
        head: teacherHead.apply(tf.concat([unrotated.embedding, aug.embedding]) as tf.Tensor2D),
      };
    };
    return {
      parts: {
        studentHead,
        // trained in the first stage only: kept and checkpointed, never optimised in the main stage
        teacherHead: { buffers: () => teacherHead.variablesByName('sskd.teacherHead'), dispose: () => teacherHead.dispose() },
      },
      procedure: {
        stages: [{
          name: 'sskd-teacher-head',
          epochs: scaleEpochs(hp.headEpochs, epochs),
          schedule: (_base, epoch, stageEpochs) => learningRate(hp.headLr, { kind: 'multistep', milestones: [0.5, 0.75], gamma: 0.1 }, epoch, stageEpochs),
          variables: () => teacherHead.trainableVariables(),
          losses: (io) => ({ ss: selfSupervisionLoss(teacherViews(io.x, io.teacher).head) }),
        }],
      },
      losses: (io) => {
        const s = student.forward(tf.concat([io.x, rotatedViews(io.x)]) as tf.Tensor4D, { training: true });
        return sskdTerms(hp, io.labels, { logits: s.logits, head: studentHead.apply(s.embedding) }, teacherViews(io.x, io.teacher));
      },
    };
  },
});
