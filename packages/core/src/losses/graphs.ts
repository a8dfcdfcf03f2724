/**
 * Building blocks of the graph-based distillation losses (packages/graph): instance graphs over a
 * batch and the distances they are built from.
 *
 * - `knnIndices`: the k nearest rows of each row of a distance matrix (ties broken by the lower
 *   index), with or without the row itself;
 * - `knnMask` / `knnMeanMatrix`: the graph as a dense [B, B] 0/1 mask (row i marks the neighbours
 *   of i) or as the row-stochastic matrix of the mean over the neighbours;
 * - `softmaxCosineDistance`: 1 - cos(softmax(a_i), softmax(a_j)) between rows of logits (HKD's
 *   instance graph); `pairwiseL1`: the L1 distance between rows (LSP's kernel);
 * - `maskedLogSoftmax`: a log-softmax of each row restricted to the entries of a mask (a softmax
 *   over a vertex's neighbours only).
 *
 * Distances come back as tensors; the neighbour indices as plain arrays, since a graph's edges are
 * a choice, not something a gradient flows through.
 */
import { tf } from '@kdbench/engine';

/** Logits far below any real score: masked entries of a row (exp gives exactly 0). */
const MASKED = -1e9;

/**
 * Indices [B * k] of the k nearest rows of every row of `dist` [B, B] (row i: its neighbours in
 * order of distance, ties broken by the lower index). `includeSelf` puts i itself first (HKD's
 * graph sets the diagonal to -1); otherwise i is left out. k is at most B (B - 1 without self).
 */
export function knnIndices(dist: tf.Tensor2D, k: number, opts: { includeSelf: boolean }): Int32Array {
  const [b, b2] = dist.shape;
  if (b !== b2) throw new Error(`knnIndices: the distance matrix must be square, got [${dist.shape}]`);
  const most = opts.includeSelf ? b : b - 1;
  if (!(Number.isInteger(k) && k >= 1 && k <= most)) {
    throw new Error(`knnIndices: k must be an integer in [1, ${most}] for ${b} rows${opts.includeSelf ? '' : ' (self excluded)'}, got ${k}`);
  }
  const d = dist.dataSync();
  const out = new Int32Array(b * k);
  for (let i = 0; i < b; i++) {
    const order = [...Array(b).keys()]
      .filter((j) => opts.includeSelf || j !== i)
      .sort((x, y) => (x === i ? -1 : y === i ? 1 : d[i * b + x]! - d[i * b + y]! || x - y));
    out.set(order.slice(0, k), i * k);
  }
  return out;
}

/** The graph of `knnIndices` as a [B, B] 0/1 matrix: entry (i, j) is 1 when j is a neighbour of i. */
export function knnMask(indices: Int32Array, b: number): tf.Tensor2D {
  if (indices.length % b !== 0) throw new Error(`knnMask: ${indices.length} indices for ${b} rows`);
  const k = indices.length / b;
  const m = new Float32Array(b * b);
  for (let i = 0; i < b; i++) for (let n = 0; n < k; n++) m[i * b + indices[i * k + n]!] = 1;
  return tf.tensor2d(m, [b, b]);
}

/**
 * The mean over each row's neighbours as a row-stochastic [B, B] matrix A (A x is the mean of the
 * neighbours' rows of x): what a graph convolution with symmetric normalisation D^-1/2 A D^-1/2
 * computes when every vertex has the same in-degree k.
 */
export function knnMeanMatrix(indices: Int32Array, b: number): tf.Tensor2D {
  return tf.tidy(() => tf.div(knnMask(indices, b), indices.length / b) as tf.Tensor2D);
}

/** 1 - cos(softmax(a_i), softmax(a_j)) for every pair of rows of logits a [B, C]: [B, B]. */
export function softmaxCosineDistance(logits: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const p = tf.softmax(logits);
    const unit = tf.div(p, tf.norm(p, 'euclidean', 1, true));
    return tf.sub(1, tf.matMul(unit, unit, false, true)) as tf.Tensor2D;
  });
}

/** L1 distances between every pair of rows of e [B, D]: [B, B] (differentiable; 0 on the diagonal). */
export function pairwiseL1(e: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.sum(tf.abs(tf.sub(tf.expandDims(e, 1), tf.expandDims(e, 0))), 2) as tf.Tensor2D);
}

/**
 * Log-softmax of each row of `scores` [B, B] over the entries where `mask` is 1 (a softmax over a
 * vertex's neighbours); entries outside the mask come out near -1e9 (probability exactly 0).
 */
export function maskedLogSoftmax(scores: tf.Tensor2D, mask: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.logSoftmax(tf.add(tf.mul(scores, mask), tf.mul(tf.sub(1, mask), MASKED))) as tf.Tensor2D);
}
