/**
 * Building blocks shared by the relation-based distillation losses (FSP, SP, CC, RKD, PKT, IRG,
 * CRD, graph losses): flattening and pooling of feature maps, row L2 normalisation, Gram and
 * cosine-similarity matrices, pairwise Euclidean distances, FSP "flow" matrices, MSE and
 * smooth-L1 (Huber). All functions are differentiable tfjs ops and leak nothing (tf.tidy).
 * Semantics follow PyTorch's where a reference implementation (RepDistiller) relies on them.
 */
import { tf } from '@kdbench/engine';

/** [B, ...] -> [B, D] (PyTorch's `x.view(B, -1)`; NHWC order, which no loss here depends on). */
export function flattenRows(x: tf.Tensor): tf.Tensor2D {
  const b = x.shape[0]!;
  return tf.reshape(x, [b, -1]) as tf.Tensor2D;
}

/** Global average pooling of NHWC feature maps: [B, H, W, C] -> [B, C]. */
export function spatialMean(x: tf.Tensor4D): tf.Tensor2D {
  return tf.mean(x, [1, 2]) as tf.Tensor2D;
}

/**
 * Adaptive average pooling of NHWC maps to h x w when the input size is an integer multiple of
 * it (every case in the CIFAR nets: 32 -> 16 -> 8), i.e. PyTorch's adaptive_avg_pool2d there.
 */
export function avgPoolTo(x: tf.Tensor4D, h: number, w: number): tf.Tensor4D {
  const [, H, W] = x.shape;
  if (H === h && W === w) return x;
  if (H % h !== 0 || W % w !== 0) throw new Error(`avgPoolTo: ${H}x${W} is not a multiple of ${h}x${w}`);
  return tf.avgPool(x, [H / h, W / w], [H / h, W / w], 'valid');
}

/** Row-wise L2 normalisation x / max(||x||, eps), PyTorch's F.normalize(x, p=2, dim=1). */
export function l2NormalizeRows(x: tf.Tensor2D, eps = 1e-12): tf.Tensor2D {
  return tf.tidy(() => {
    // sqrt(max(|x|^2, eps^2)) = max(|x|, eps), with a finite (zero) gradient at x = 0
    const norm = tf.sqrt(tf.maximum(tf.sum(tf.square(x), 1, true), eps * eps));
    return tf.div(x, norm) as tf.Tensor2D;
  });
}

/** Gram matrix of the rows: F F^T, [B, D] -> [B, B]. */
export function gramRows(f: tf.Tensor2D): tf.Tensor2D {
  return tf.matMul(f, f, false, true);
}

/** Cosine similarity of every pair of rows: [B, D] -> [B, B]. */
export function cosineSimilarityMatrix(f: tf.Tensor2D, eps = 1e-12): tf.Tensor2D {
  return tf.tidy(() => {
    const n = l2NormalizeRows(f, eps);
    return gramRows(n);
  });
}

/**
 * Pairwise Euclidean distances between rows, [B, D] -> [B, B]: |a|^2 + |b|^2 - 2ab clamped below
 * at `eps`, square-rooted unless `squared`, with an exact zero diagonal (RKD's `pdist`).
 */
export function pairwiseDistances(e: tf.Tensor2D, opts: { squared?: boolean; eps?: number } = {}): tf.Tensor2D {
  const eps = opts.eps ?? 1e-12;
  return tf.tidy(() => {
    const b = e.shape[0];
    const sq = tf.sum(tf.square(e), 1);
    const prod = tf.matMul(e, e, false, true);
    let d = tf.maximum(tf.sub(tf.add(tf.expandDims(sq, 1), tf.expandDims(sq, 0)), tf.mul(prod, 2)), eps);
    if (!opts.squared) d = tf.sqrt(d);
    const offDiag = tf.sub(1, tf.eye(b));
    return tf.mul(d, offDiag) as tf.Tensor2D;
  });
}

/**
 * FSP ("flow of solution procedure") matrix of Yim et al. (CVPR 2017) between two NHWC maps of
 * equal spatial size: G[b, i, j] = mean over positions of top[..., i] * bottom[..., j],
 * [B, H, W, Cb] x [B, H, W, Ct] -> [B, Ct, Cb].
 */
export function fspMatrix(bottom: tf.Tensor4D, top: tf.Tensor4D): tf.Tensor3D {
  return tf.tidy(() => {
    const [b, h, w, cb] = bottom.shape;
    const ct = top.shape[3];
    if (top.shape[1] !== h || top.shape[2] !== w) throw new Error('fspMatrix: maps must have equal spatial size');
    const bot = tf.reshape(bottom, [b, h * w, cb]);
    const tp = tf.reshape(top, [b, h * w, ct]);
    return tf.div(tf.matMul(tp, bot, true, false), h * w) as tf.Tensor3D;
  });
}

/** Mean squared error over all elements (PyTorch's F.mse_loss, reduction 'mean'). */
export function meanSquaredError(a: tf.Tensor, b: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.squaredDifference(a, b)) as tf.Scalar);
}

/** Smooth-L1 (Huber with delta = beta) averaged over all elements (PyTorch's F.smooth_l1_loss). */
export function smoothL1(a: tf.Tensor, b: tf.Tensor, beta = 1): tf.Scalar {
  return tf.tidy(() => {
    // 0.5 m^2 / beta + (d - m) with m = min(d, beta): the two Huber branches without a
    // comparison op on the gradient path (tfjs has no gradient for Less)
    const d = tf.abs(tf.sub(a, b));
    const m = tf.minimum(d, beta);
    return tf.mean(tf.add(tf.div(tf.mul(tf.square(m), 0.5), beta), tf.sub(d, m))) as tf.Scalar;
  });
}

/**
 * Identity whose gradient is zero: PyTorch's `.detach()` for a value that must act as a constant
 * inside a differentiated expression (e.g. a batch maximum used as a normaliser).
 */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  const f = tf.customGrad((a) => ({ value: tf.clone(a as tf.Tensor), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) }));
  return f(x) as T;
}
