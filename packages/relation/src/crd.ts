/**
 * CRD: Y. Tian, D. Krishnan and P. Isola, "Contrastive Representation Distillation", ICLR 2020
 * (arXiv:1910.10699, https://arxiv.org/abs/1910.10699; code: RepDistiller).
 *
 * Student and teacher pooled embeddings go through linear heads to 128-d unit vectors s, t. Two
 * memory banks hold one 128-d vector per training record: the student bank M_s and the teacher
 * bank M_t; the record at position i of the training split (ctx.trainIds) owns row i of both.
 * For each batch row (record i of class c), K distinct negatives are drawn from the rows
 * of records of other classes (RepDistiller's CIFAR loader, 'exact' mode: positive = the record
 * itself, negatives from cls_negative[c]) and
 *   h(t, M_s[j]) = exp(<M_s[j], t> / tau) / Z_t,   h(s, M_t[j]) = exp(<M_t[j], s> / tau) / Z_s,
 * with Z estimated once on the first batch (mean of exp(.) times N). The NCE loss of the paper
 * (Eq. 18 as implemented in RepDistiller), per anchor and side, with m = K and P_n = 1/N (N the
 * bank size, as in RepDistiller even though the negatives come from the other classes only):
 *   L = -E[ log(h_pos / (h_pos + m/N)) ] - sum_neg log((m/N) / (h_neg + m/N)),
 * summed over both sides (teacher anchor, student anchor) and averaged over the batch.
 * After each step the banks move to the batch's embeddings: M[i] <- norm(0.5 M[i] + 0.5 v).
 * The banks and both Z are buffers (checkpointed; Z = -1 until estimated, like RepDistiller's
 * `params` buffer), so a resumed run continues with the same banks and constants.
 * Defaults (CRD benchmark): K = 16384 (capped at the smallest number of other-class records),
 * tau = 0.07, momentum 0.5, dim 128, loss = CE + 0.8 * L_CRD; CRD+KD adds 1 * T^2 * KL with T = 4.
 */
import { crossEntropy, defineMethod, Embed, moduleSeed, type MethodContext, type MethodInstance, type StepIO, softTargetKL } from '@kdbench/core';
import { type Rng, tf } from '@kdbench/engine';
import { embeddingDim } from './embed.js';

const EPS = 1e-7;

/**
 * Bank rows grouped by class, for drawing negatives from the records of other classes in O(1):
 * the rows of class c occupy order[start(c) .. start(c) + count(c)), so a uniform draw over the
 * N - count(c) other positions skips that block.
 */
export class ClassNegatives {
  /** Bank rows sorted by class (ascending rows within a class). */
  readonly order: Int32Array;
  private readonly block = new Map<number, { start: number; count: number }>();

  constructor(readonly labels: Int32Array) {
    const counts = new Map<number, number>();
    for (const c of labels) counts.set(c, (counts.get(c) ?? 0) + 1);
    let start = 0;
    for (const c of [...counts.keys()].sort((a, b) => a - b)) {
      this.block.set(c, { start, count: counts.get(c)! });
      start += counts.get(c)!;
    }
    this.order = new Int32Array(labels.length);
    const fill = new Map([...this.block].map(([c, b]) => [c, b.start]));
    labels.forEach((c, row) => {
      const at = fill.get(c)!;
      this.order[at] = row;
      fill.set(c, at + 1);
    });
  }

  /** Smallest pool over the classes present (the K cap). */
  minPool(): number {
    let m = Infinity;
    for (const { count } of this.block.values()) m = Math.min(m, this.labels.length - count);
    return m;
  }

  /**
   * Writes `k` distinct rows drawn uniformly without replacement from the classes other than that
   * of `row` to out[at..at+k) (RepDistiller's np.random.choice(..., replace=False)): a partial
   * Fisher-Yates shuffle of the pool, with the swaps kept in a sparse map so a draw costs O(k).
   */
  draw(row: number, k: number, rng: Rng, out: Int32Array, at: number): void {
    const { start, count } = this.blockOf(row);
    const pool = this.labels.length - count;
    if (k > pool) throw new Error(`crd: ${k} negatives requested from a pool of ${pool} other-class records`);
    const swapped = new Map<number, number>();
    const at_ = (i: number) => swapped.get(i) ?? i;
    for (let j = 0; j < k; j++) {
      const r = j + rng.int(pool - j);
      const pick = at_(r);
      swapped.set(r, at_(j));
      out[at + j] = this.order[pick >= start ? pick + count : pick]!;
    }
  }

  private blockOf(row: number): { start: number; count: number } {
    const c = this.labels[row];
    if (c === undefined) throw new Error(`crd: bank row ${row} out of range (${this.labels.length} rows)`);
    return this.block.get(c)!;
  }
}

/**
 * Row indices [B * (K + 1)]: row b starts with its positive `rows[b]`, then K negatives drawn
 * uniformly without replacement from the rows of the other classes.
 */
export function sampleContrastIndices(rows: Int32Array, negatives: ClassNegatives, k: number, rng: Rng): Int32Array {
  const out = new Int32Array(rows.length * (k + 1));
  for (let b = 0; b < rows.length; b++) {
    const pos = rows[b]!;
    const base = b * (k + 1);
    out[base] = pos;
    negatives.draw(pos, k, rng, out, base + 1);
  }
  return out;
}

/** CRD's NCE loss of one side: x [B, K+1] of normalised scores, column 0 the positive. */
export function nceLoss(x: tf.Tensor2D, bankSize: number): tf.Scalar {
  return tf.tidy(() => {
    const [b, cols] = x.shape;
    const mPn = (cols - 1) / bankSize;
    const pos = tf.slice(x, [0, 0], [b, 1]);
    const neg = tf.slice(x, [0, 1], [b, cols - 1]);
    const logD1 = tf.log(tf.div(pos, tf.add(pos, mPn + EPS)));
    const logD0 = tf.log(tf.div(mPn, tf.add(neg, mPn + EPS)));
    return tf.neg(tf.div(tf.add(tf.sum(logD1), tf.sum(logD0)), b)) as tf.Scalar;
  });
}

type CrdHyper = {
  gamma: number; alpha: number; T: number; beta: number; featDim: number; nceK: number; nceT: number; nceM: number;
};

/** Z not yet estimated (RepDistiller's -1). */
const Z_UNSET = -1;

/** The two memory banks, the normalisation constants and the record id -> bank row map. */
export class ContrastMemory {
  readonly student: tf.Variable; // M_s: student embeddings (RepDistiller memory_v1)
  readonly teacher: tf.Variable; // M_t: teacher embeddings (memory_v2)
  /** [Z_s, Z_t]: Z of the student-anchor side (scores against M_t), then the teacher-anchor side. */
  readonly z: tf.Variable;
  /** Record id -> bank row: the id's position in the training split. */
  readonly rows = new Map<number, number>();
  readonly size: number;

  constructor(trainIds: Int32Array, readonly dim: number, rng: Rng) {
    this.size = trainIds.length;
    trainIds.forEach((id, row) => {
      if (this.rows.has(id)) throw new Error(`crd: record id ${id} appears twice in the training split`);
      this.rows.set(id, row);
    });
    const stdv = 1 / Math.sqrt(dim / 3);
    const init = (r: Rng) => {
      const a = new Float32Array(this.size * dim);
      for (let i = 0; i < a.length; i++) a[i] = (2 * r.next() - 1) * stdv;
      return tf.tidy(() => tf.variable(tf.tensor2d(a, [this.size, dim]), false));
    };
    this.student = init(rng.fork('bank-s'));
    this.teacher = init(rng.fork('bank-t'));
    this.z = tf.tidy(() => tf.variable(tf.tensor1d([Z_UNSET, Z_UNSET]), false));
  }

  /** Bank rows of dataset record ids (their positions in ctx.trainIds). */
  rowsOf(ids: Int32Array): Int32Array {
    const out = new Int32Array(ids.length);
    ids.forEach((id, b) => {
      const r = this.rows.get(id);
      if (r === undefined) throw new Error(`crd: record id ${id} is not in the training split (ctx.trainIds), so it has no memory-bank row`);
      out[b] = r;
    });
    return out;
  }

  /** M[rows] <- L2-normalised momentum * M[rows] + (1 - momentum) * v, for both banks. */
  update(rows: Int32Array, vs: tf.Tensor2D, vt: tf.Tensor2D, momentum: number): void {
    tf.tidy(() => {
      const idx = tf.tensor1d(rows, 'int32');
      const idx2 = tf.reshape(idx, [rows.length, 1]);
      for (const [bank, v] of [[this.student, vs], [this.teacher, vt]] as const) {
        const mixed = tf.add(tf.mul(tf.gather(bank, idx), momentum), tf.mul(v, 1 - momentum));
        const normed = tf.div(mixed, tf.sqrt(tf.sum(tf.square(mixed), 1, true)));
        bank.assign(tf.tensorScatterUpdate(bank, idx2, normed));
      }
    });
  }

  dispose(): void {
    this.student.dispose();
    this.teacher.dispose();
    this.z.dispose();
  }
}

/** exp(<bank[idx], v> / tau) as [B, K+1]: all bank scores by one matMul, then a gather. */
function sampledScores(v: tf.Tensor2D, bank: tf.Variable, idx: Int32Array, tau: number): tf.Tensor2D {
  const [b] = v.shape;
  const n = bank.shape[0]!;
  const flat = new Int32Array(idx.length);
  const cols = idx.length / b;
  for (let i = 0; i < idx.length; i++) flat[i] = Math.floor(i / cols) * n + idx[i]!;
  const all = tf.reshape(tf.matMul(v, bank as tf.Tensor2D, false, true), [-1]);
  return tf.exp(tf.div(tf.reshape(tf.gather(all, tf.tensor1d(flat, 'int32')), [b, cols]), tau)) as tf.Tensor2D;
}

export class CrdInstance implements MethodInstance {
  readonly embedS: Embed;
  readonly embedT: Embed;
  readonly memory: ContrastMemory;
  readonly negatives: ClassNegatives;
  readonly modules: Record<string, Embed>;
  readonly k: number;
  /** Indices sampled by the last losses() call (for inspection). */
  lastSample: Int32Array | null = null;
  private rng: Rng;
  /** [Z_s, Z_t] as float32 values, read from (or estimated into) memory.z by the first losses(). */
  private zCache: [number, number] | null = null;
  private pending: { rows: Int32Array; vs: tf.Tensor2D; vt: tf.Tensor2D } | null = null;

  constructor(private readonly ctx: MethodContext<CrdHyper>) {
    const { hp, rng, trainIds, trainLabels } = ctx;
    if (trainIds.length !== trainLabels.length || trainIds.length !== ctx.trainSize) {
      throw new Error(`crd: trainIds (${trainIds.length}), trainLabels (${trainLabels.length}) and trainSize (${ctx.trainSize}) disagree`);
    }
    this.negatives = new ClassNegatives(trainLabels);
    const pool = this.negatives.minPool();
    if (!(pool >= 1)) throw new Error('crd: needs training records of at least two classes (negatives come from other classes)');
    this.k = Math.min(hp.nceK, pool);
    this.embedS = new Embed(embeddingDim(ctx.studentShapes), hp.featDim, moduleSeed(rng, 'crd-embed-s'), true);
    this.embedT = new Embed(embeddingDim(ctx.teacherShapes!), hp.featDim, moduleSeed(rng, 'crd-embed-t'), true);
    this.modules = { embedS: this.embedS, embedT: this.embedT };
    this.memory = new ContrastMemory(trainIds, hp.featDim, rng.fork('crd-memory'));
    this.rng = rng.fork(0);
  }

  /** Memory banks and Z: checkpointed, and restored in place before training resumes. */
  buffers(): Record<string, tf.Variable> {
    return { memoryStudent: this.memory.student, memoryTeacher: this.memory.teacher, z: this.memory.z };
  }

  onEpochStart(epoch: number): void {
    this.rng = this.ctx.rng.fork(epoch);
  }

  losses(io: StepIO): Record<string, tf.Scalar> {
    const { hp } = this.ctx;
    const n = this.memory.size;
    const vs = this.embedS.apply(io.student.embedding);
    const vt = this.embedT.apply(io.teacher!.embedding);
    const rows = this.memory.rowsOf(io.ids);
    const idx = sampleContrastIndices(rows, this.negatives, this.k, this.rng);
    this.lastSample = idx;
    const outS = sampledScores(vs, this.memory.teacher, idx, hp.nceT); // student anchor, teacher bank
    const outT = sampledScores(vt, this.memory.student, idx, hp.nceT); // teacher anchor, student bank
    const [zS, zT] = this.zCache ??= this.readOrEstimateZ(outS, outT);
    const loss = tf.add(nceLoss(tf.div(outS, zS), n), nceLoss(tf.div(outT, zT), n));
    // the banks move after the optimiser step (afterStep), to this batch's embeddings
    this.dropPending();
    this.pending = { rows, vs: tf.keep(vs.clone()), vt: tf.keep(vt.clone()) };
    const terms: Record<string, tf.Scalar> = {
      ce: tf.mul(crossEntropy(io.student.logits, io.labels), hp.gamma),
      crd: tf.mul(loss, hp.beta),
    };
    if (hp.alpha > 0) terms.kd = tf.mul(softTargetKL(io.student.logits, io.teacher!.logits, hp.T), hp.alpha);
    return terms;
  }

  /** Z from the buffer (restored by a resume) or, while unset, mean(exp scores) * N of this batch. */
  private readOrEstimateZ(outS: tf.Tensor2D, outT: tf.Tensor2D): [number, number] {
    const n = this.memory.size;
    const z = Array.from(this.memory.z.dataSync());
    if (z[0]! >= 0 && z[1]! >= 0) return [z[0]!, z[1]!];
    tf.tidy(() => {
      const est = [tf.mean(outS).dataSync()[0]! * n, tf.mean(outT).dataSync()[0]! * n];
      this.memory.z.assign(tf.tensor1d(z.map((v, i) => (v >= 0 ? v : est[i]!))));
    });
    const set = this.memory.z.dataSync(); // float32, as a checkpoint restores it
    return [set[0]!, set[1]!];
  }

  afterStep(): void {
    if (!this.pending) return;
    this.memory.update(this.pending.rows, this.pending.vs, this.pending.vt, this.ctx.hp.nceM);
    this.dropPending();
  }

  private dropPending(): void {
    if (this.pending) tf.dispose([this.pending.vs, this.pending.vt]);
    this.pending = null;
  }

  dispose(): void {
    this.dropPending();
    this.memory.dispose();
    this.embedS.dispose();
    this.embedT.dispose();
  }
}

const paper = {
  authors: 'Y. Tian, D. Krishnan, P. Isola',
  title: 'Contrastive Representation Distillation',
  venue: 'ICLR',
  year: 2020,
  url: 'https://arxiv.org/abs/1910.10699',
};

const hyperDocs = {
  gamma: 'weight of the cross-entropy with labels',
  alpha: 'weight of the T^2-scaled KD term (0: plain CRD)',
  T: 'KD temperature (used when alpha > 0)',
  beta: 'weight of the CRD contrastive loss',
  featDim: 'width of the L2-normalised embedding heads and memory banks',
  nceK: 'negatives per positive, drawn from records of other classes (capped at the smallest such pool)',
  nceT: 'temperature tau of the critic exp(<u, v> / tau)',
  nceM: 'momentum of the memory-bank update',
};

const deviations =
  'Negatives are drawn without replacement from the records of other classes, as RepDistiller\'s CIFAR \'exact\' ' +
  'mode does, but from the run\'s Rng rather than numpy\'s stream. K is capped at the smallest number of ' +
  'other-class records, so small training subsets (CPU protocols) use fewer than 16384 negatives; RepDistiller would ' +
  'instead draw 16384 with replacement. As in RepDistiller, the loss keeps P_n = 1/N although the negatives come ' +
  'from other classes only.';

const base: CrdHyper = { gamma: 1, alpha: 0, T: 4, beta: 0.8, featDim: 128, nceK: 16384, nceT: 0.07, nceM: 0.5 };

export const crd = defineMethod({
  id: 'crd',
  title: 'Contrastive representation distillation',
  paper,
  family: 'relation',
  knowledge: 'relation',
  scheme: 'offline',
  teacher: 'required',
  defaults: base,
  hyperDocs,
  deviations,
  create: (ctx) => new CrdInstance(ctx),
});

export const crdkd = defineMethod({
  ...crd,
  id: 'crdkd',
  title: 'Contrastive representation distillation + KD',
  defaults: { ...base, alpha: 1 },
});
