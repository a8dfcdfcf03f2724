/**
 * The contrastive objective of CRD (Tian, Krishnan & Isola, "Contrastive Representation
 * Distillation", ICLR 2020, https://arxiv.org/abs/1910.10699; code: RepDistiller), shared by CRD /
 * CRD+KD (packages/relation) and the cross-modal contrastive variant (packages/cross-modal):
 *
 * - `ClassNegatives` / `sampleContrastIndices`: K distinct negatives per anchor drawn without
 *   replacement from the records of other classes (RepDistiller's 'exact' mode; a label-free
 *   caller gives every record its own class, so negatives are any other record);
 * - `ContrastMemory`: the student and teacher memory banks (one unit vector per training record,
 *   row i = position i of ctx.trainIds), the two normalisation constants Z and the momentum update
 *   M[i] <- norm(m M[i] + (1 - m) v);
 * - `nceLoss`: the NCE loss of one side (Eq. 18 as implemented in RepDistiller) with m = K, P_n = 1/N;
 * - `ContrastiveCriterion`: both sides for a batch of student / teacher embeddings, with Z estimated
 *   once on the first batch (mean of exp(.) times N, kept in a buffer) and the bank update deferred
 *   to afterStep().
 */
import { type Rng, tf } from '@kdbench/engine';
import type { Part } from '../method.js';

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

/**
 * <bank[idx], v> as [B, cols] (row b: the bank rows idx[b * cols ..]): all bank scores by one
 * matMul, then a gather (cheaper than gathering B * cols bank rows).
 */
export function bankScores(v: tf.Tensor2D, bank: tf.Variable, idx: Int32Array): tf.Tensor2D {
  const [b] = v.shape;
  const n = bank.shape[0]!;
  const flat = new Int32Array(idx.length);
  const cols = idx.length / b;
  for (let i = 0; i < idx.length; i++) flat[i] = Math.floor(i / cols) * n + idx[i]!;
  const all = tf.reshape(tf.matMul(v, bank as tf.Tensor2D, false, true), [-1]);
  return tf.reshape(tf.gather(all, tf.tensor1d(flat, 'int32')), [b, cols]) as tf.Tensor2D;
}

/** exp(<bank[idx], v> / tau) as [B, K+1]. */
export function sampledScores(v: tf.Tensor2D, bank: tf.Variable, idx: Int32Array, tau: number): tf.Tensor2D {
  return tf.exp(tf.div(bankScores(v, bank, idx), tau)) as tf.Tensor2D;
}

export interface ContrastiveOptions {
  /** Dataset record ids of the training split (bank row i = trainIds[i]). */
  readonly trainIds: Int32Array;
  /** Class of each bank row: negatives come from other classes (give 0..N-1 for label-free use). */
  readonly negativeClasses: Int32Array;
  readonly dim: number;
  /** Negatives per anchor, capped at the smallest other-class pool. */
  readonly nceK: number;
  /** Critic temperature tau. */
  readonly nceT: number;
  /** Bank momentum. */
  readonly nceM: number;
  /** Initialises the banks. */
  readonly rng: Rng;
  /** Draws the negatives: forked per epoch (`onEpochStart`), so a resumed run draws the same ones. */
  readonly sampler: Rng;
}

/**
 * CRD's two-sided contrastive loss over the memory banks for a batch of L2-normalised student and
 * teacher embeddings vs, vt [B, dim]: NCE(student anchor vs teacher bank) + NCE(teacher anchor vs
 * student bank). The banks move to this batch's embeddings in afterStep(), after the optimiser step.
 */
export class ContrastiveCriterion implements Part {
  readonly memory: ContrastMemory;
  readonly negatives: ClassNegatives;
  readonly k: number;
  /** Indices sampled by the last loss() call (for inspection). */
  lastSample: Int32Array | null = null;
  /** [Z_s, Z_t] as float32 values, read from (or estimated into) memory.z by the first loss(). */
  private zCache: [number, number] | null = null;
  private pending: { rows: Int32Array; vs: tf.Tensor2D; vt: tf.Tensor2D } | null = null;
  private epochRng: Rng;

  constructor(private readonly opts: ContrastiveOptions) {
    if (opts.negativeClasses.length !== opts.trainIds.length) {
      throw new Error(`crd: ${opts.negativeClasses.length} negative classes for ${opts.trainIds.length} training records`);
    }
    this.negatives = new ClassNegatives(opts.negativeClasses);
    const pool = this.negatives.minPool();
    if (!(pool >= 1)) throw new Error('crd: needs training records of at least two classes (negatives come from other classes)');
    this.k = Math.min(opts.nceK, pool);
    this.memory = new ContrastMemory(opts.trainIds, opts.dim, opts.rng);
    this.epochRng = opts.sampler.fork(0);
  }

  onEpochStart(epoch: number): void {
    this.epochRng = this.opts.sampler.fork(epoch);
  }

  /** Memory banks and Z: checkpointed, and restored in place before training resumes. */
  buffers(): Record<string, tf.Variable> {
    return { memoryStudent: this.memory.student, memoryTeacher: this.memory.teacher, z: this.memory.z };
  }

  /** The contrastive loss of a batch (record ids `ids`), with negatives drawn from this epoch's sampler. */
  loss(vs: tf.Tensor2D, vt: tf.Tensor2D, ids: Int32Array): tf.Scalar {
    const rows = this.memory.rowsOf(ids);
    return this.lossAt(vs, vt, rows, sampleContrastIndices(rows, this.negatives, this.k, this.epochRng));
  }

  /**
   * The contrastive loss of a batch whose bank rows are `rows`, against given bank indices
   * `idx` [B * (K + 1)] (row b: its positive rows[b], then its negatives), as RepDistiller's
   * CRDLoss(f_s, f_t, idx, contrast_idx) does when given contrast_idx.
   */
  lossAt(vs: tf.Tensor2D, vt: tf.Tensor2D, rows: Int32Array, idx: Int32Array): tf.Scalar {
    const n = this.memory.size;
    const b = rows.length;
    if (idx.length % b !== 0) throw new Error(`crd: ${idx.length} contrast indices for a batch of ${b}`);
    for (let i = 0; i < b; i++) {
      if (idx[i * (idx.length / b)] !== rows[i]) throw new Error(`crd: contrast index row ${i} does not start with its positive ${rows[i]}`);
    }
    this.lastSample = idx;
    const outS = sampledScores(vs, this.memory.teacher, idx, this.opts.nceT); // student anchor, teacher bank
    const outT = sampledScores(vt, this.memory.student, idx, this.opts.nceT); // teacher anchor, student bank
    const [zS, zT] = this.zCache ??= this.readOrEstimateZ(outS, outT);
    const loss = tf.add(nceLoss(tf.div(outS, zS), n), nceLoss(tf.div(outT, zT), n)) as tf.Scalar;
    // the banks move after the optimiser step (afterStep), to this batch's embeddings
    this.dropPending();
    this.pending = { rows, vs: tf.keep(vs.clone()), vt: tf.keep(vt.clone()) };
    return loss;
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
    this.memory.update(this.pending.rows, this.pending.vs, this.pending.vt, this.opts.nceM);
    this.dropPending();
  }

  private dropPending(): void {
    if (this.pending) tf.dispose([this.pending.vs, this.pending.vt]);
    this.pending = null;
  }

  dispose(): void {
    this.dropPending();
    this.memory.dispose();
  }
}
