/**
 * Feature-level building blocks shared by the feature and attention methods (AT, NST, FT, VID,
 * SemCKD, FitNet), written once here (pooling, flattening, row normalisation and MSE are the ones
 * in relations.ts: avgPoolTo, flattenRows, meanSquaredError):
 * - `stageShapes`: the tapped feature shapes without the pooled 'embedding' entry;
 * - `matchSpatial`: the CRD benchmark's (RepDistiller) rule for pairs whose spatial sizes
 *   differ: the larger map is adaptively average-pooled to the smaller one;
 * - `safeNorm` / `unitRows`: F.normalize with PyTorch's zero gradient at an all-zero vector;
 * - `attentionMap`: AT's map, the L2-normalised channel mean of |f|^p (Zagoruyko & Komodakis 2017);
 * - `spatialNormalizedChannels` + `polyKernelMMD`: NST's squared MMD with the polynomial kernel
 *   k(x, y) = (x.y)^2 between channel-wise (spatially L2-normalised) features (Huang & Wang 2017);
 * All tensors are NHWC.
 */
import { tf } from '@kdbench/engine';
import type { FeatureShape } from '@kdbench/models';
import { avgPoolTo, flattenRows } from './relations.js';

/** The feature shapes a method taps ([stem, stage1, ...]), i.e. featureShapes() minus 'embedding'. */
export function stageShapes(shapes: readonly FeatureShape[]): FeatureShape[] {
  return shapes.filter((s) => s.name !== 'embedding');
}

/** Pools the spatially larger of a student/teacher pair to the other's size (RepDistiller's rule). */
export function matchSpatial(s: tf.Tensor4D, t: tf.Tensor4D): [tf.Tensor4D, tf.Tensor4D] {
  const [, sh, sw] = s.shape;
  const [, th, tw] = t.shape;
  if (sh > th) return [avgPoolTo(s, th, tw), t];
  if (sh < th) return [s, avgPoolTo(t, sh, sw)];
  if (sw !== tw) throw new Error(`matchSpatial: widths differ (${sw} vs ${tw}) at equal heights`);
  return [s, t];
}

/** AT's attention map: F.normalize(mean_c |f|^p) flattened to [B, H*W]. */
export function attentionMap(f: tf.Tensor4D, p = 2): tf.Tensor2D {
  return tf.tidy(() => {
    const a = p === 2 ? tf.square(f) : tf.pow(tf.abs(f), p);
    return unitRows(flattenRows(tf.mean(a, 3)));
  });
}

/**
 * Row-wise x / max(||x||_2, eps) like l2NormalizeRows, but with a zero (not NaN) gradient for an
 * all-zero row (see safeNorm): AT's maps and FT's factors of post-ReLU features.
 */
export function unitRows(x: tf.Tensor2D, eps = 1e-12): tf.Tensor2D {
  return tf.tidy(() => tf.div(x, safeNorm(x, 1, eps)) as tf.Tensor2D);
}

/**
 * [B, H, W, C] -> [B, C, H*W] with every channel's spatial vector L2-normalised (NST), as
 * F.normalize(dim=2): x / max(||x||, eps). The norm is computed as sqrt(max(sum x^2, eps^2)) so
 * that an all-zero channel (a dead ReLU channel, common) has a zero gradient, as in PyTorch,
 * rather than the NaN of d sqrt(0).
 */
export function spatialNormalizedChannels(f: tf.Tensor4D, eps = 1e-12): tf.Tensor3D {
  return tf.tidy(() => {
    const [b, h, w, c] = f.shape;
    const x = tf.transpose(tf.reshape(f, [b, h * w, c]), [0, 2, 1]);
    return tf.div(x, safeNorm(x, 2, eps)) as tf.Tensor3D;
  });
}

/** max(||x||_2, eps) along `axis` (kept), with a finite gradient at x = 0. */
export function safeNorm(x: tf.Tensor, axis: number, eps = 1e-12): tf.Tensor {
  return tf.sqrt(tf.maximum(tf.sum(tf.square(x), axis, true), eps * eps));
}

/**
 * Squared MMD with the polynomial kernel k(x, y) = (x.y)^2 between the sets of channel vectors
 * s [B, Cs, N] and t [B, Ct, N], averaged over the batch:
 *   mean_ij k(s_i, s_j) + mean_ij k(t_i, t_j) - 2 mean_ij k(s_i, t_j).
 * The channel counts may differ; the spatial size N may not.
 */
export function polyKernelMMD(s: tf.Tensor3D, t: tf.Tensor3D): tf.Scalar {
  if (s.shape[2] !== t.shape[2]) throw new Error(`polyKernelMMD: spatial sizes differ (${s.shape[2]} vs ${t.shape[2]})`);
  return tf.tidy(() => {
    const k = (a: tf.Tensor3D, b: tf.Tensor3D) => tf.mean(tf.square(tf.matMul(a, b, false, true)));
    return tf.sub(tf.add(k(s, s), k(t, t)), tf.mul(k(s, t), 2)) as tf.Scalar;
  });
}

/**
 * The (student, teacher) pairs of stage outputs [stage1, stage2, ...] that multi-layer methods
 * tap (RepDistiller's feat[1:-1]: without the stem and the pooled vector), zipped to the shorter
 * list as the reference's zip() does. Works on features and on shapes.
 */
export function stagePairs<S, T>(student: readonly S[], teacher: readonly T[]): [S, T][] {
  const n = Math.min(student.length, teacher.length) - 1;
  return Array.from({ length: Math.max(0, n) }, (_, i) => [student[i + 1]!, teacher[i + 1]!]);
}

/** An epoch count given for the paper's `paperTotal`-epoch schedule, scaled to a run of `runEpochs` (at least 1). */
export function scaleEpochs(paperEpochs: number, runEpochs: number, paperTotal = 240): number {
  return Math.max(1, Math.round((paperEpochs * runEpochs) / paperTotal));
}
