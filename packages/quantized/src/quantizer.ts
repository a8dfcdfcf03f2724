/**
 * The fake quantisers every quantized-distillation method here shares, on plain tensors.
 *
 * - Weights: symmetric, per output channel (the last axis of a conv's HWIO or a linear's [in, out]
 *   weight). At b >= 3 bits, n = 2^(b-1) - 1 levels per sign, scale_c = max|w_c| / n and
 *   q = scale_c * round(w / scale_c) (8 bits: 127 levels, 4 bits: 7). At 2 bits the weights are
 *   ternary as in TWN (F. Li, B. Zhang, B. Liu, "Ternary Weight Networks", arXiv:1605.04711, 2016),
 *   per output channel: threshold D_c = 0.7 * mean|w_c|, scale a_c = mean of |w| over the weights
 *   above D_c, q = a_c * sign(w) where |w| > D_c, else 0.
 * - Activations: per tensor, clipped to a learned range as in PACT (J. Choi et al., "PACT:
 *   Parameterized Clipping Activation for Quantized Neural Networks", arXiv:1805.06085, 2018):
 *   unsigned inputs (after a ReLU) y = clip(x, 0, a) on 2^b - 1 steps of a / (2^b - 1); signed
 *   inputs y = clip(x, -a, a) on 2^(b-1) - 1 steps per sign.
 * - Gradients: the straight-through estimator (Bengio, Leonard & Courville, arXiv:1308.3432). Weights:
 *   value Q(w), gradient 1 (a custom gradient). Activations (also a custom gradient): the rounding passes
 *   gradients unchanged, the clip passes them inside [lo, a] and stops them outside, where they go to
 *   the clip a instead (PACT's gradient: dq/da = 1 above a, -1 below -a for signed inputs, 0 inside).
 * Rounding is tf.round (half to even).
 */
import { tf } from '@kdbench/engine';

/** Bit widths at or above this are full precision: the quantisers return their input. */
export const FULL_PRECISION = 32;
/** TWN's threshold factor: D = 0.7 * mean|w| (Li & Liu 2016). */
export const TWN_THRESHOLD = 0.7;

export function checkBits(bits: number, what: string): void {
  if (!(Number.isInteger(bits) && ((bits >= 2 && bits <= 16) || bits === FULL_PRECISION))) {
    throw new Error(`${what}: bit width must be an integer in 2..16 or ${FULL_PRECISION} (full precision), got ${bits}`);
  }
}

/** Axes of a weight that are reduced to get one value per output channel (all but the last). */
function channelAxes(w: tf.Tensor): number[] {
  if (w.rank < 2) throw new Error(`weight quantiser: expected a conv or linear weight (rank >= 2), got shape [${w.shape}]`);
  return Array.from({ length: w.rank - 1 }, (_, i) => i);
}

/** Levels per sign of a symmetric b-bit integer grid: 2^(b-1) - 1. */
export function symmetricLevels(bits: number): number {
  return 2 ** (bits - 1) - 1;
}

/** Per-output-channel symmetric quantisation (b >= 3): the quantised values and the scales [out]. */
export function quantizeSymmetric(w: tf.Tensor, bits: number): { q: tf.Tensor; scale: tf.Tensor1D } {
  checkBits(bits, 'quantizeSymmetric');
  if (bits < 3) throw new Error(`quantizeSymmetric: ${bits} bits is ternary, use ternarize`);
  return tf.tidy(() => {
    const n = symmetricLevels(bits);
    const maxAbs = tf.max(tf.abs(w), channelAxes(w));
    // an all-zero channel keeps scale 1 (its values quantise to 0 either way)
    const scale = tf.where(tf.greater(maxAbs, 0), tf.div(maxAbs, n), tf.onesLike(maxAbs)) as tf.Tensor1D;
    const q = tf.mul(tf.clipByValue(tf.round(tf.div(w, scale)), -n, n), scale);
    return { q, scale };
  });
}

/** TWN ternarisation per output channel: values in {-a_c, 0, a_c}, thresholds D_c and scales a_c ([out]). */
export function ternarize(w: tf.Tensor): { q: tf.Tensor; threshold: tf.Tensor1D; scale: tf.Tensor1D } {
  return tf.tidy(() => {
    const axes = channelAxes(w);
    const abs = tf.abs(w);
    const threshold = tf.mul(tf.mean(abs, axes), TWN_THRESHOLD) as tf.Tensor1D;
    const keep = tf.cast(tf.greater(abs, threshold), 'float32');
    const count = tf.sum(keep, axes);
    const scale = tf.div(tf.sum(tf.mul(abs, keep), axes), tf.maximum(count, 1)) as tf.Tensor1D;
    const q = tf.mul(tf.mul(tf.sign(w), keep), scale);
    return { q, threshold, scale };
  });
}

/** The quantised weight at `bits` (ternary at 2), without gradient bookkeeping. */
export function quantizeWeightValues(w: tf.Tensor, bits: number): tf.Tensor {
  if (bits >= FULL_PRECISION) return w;
  return tf.tidy(() => (bits === 2 ? ternarize(w).q : quantizeSymmetric(w, bits).q));
}

/** Fake-quantised weight with the straight-through estimator: value Q(w), gradient 1 to w. */
export function fakeQuantWeight(w: tf.Tensor, bits: number): tf.Tensor {
  checkBits(bits, 'fakeQuantWeight');
  if (bits >= FULL_PRECISION) return w;
  // the quantiser runs inside the custom gradient, so none of its ops (round, greater) is taped
  const f = tf.customGrad((ww) => ({ value: quantizeWeightValues(ww as tf.Tensor, bits), gradFunc: (dy: tf.Tensor) => dy }));
  return f(w);
}

/** Steps of the activation grid on [0, a] (unsigned: 2^b - 1) or on [0, a] per sign (signed: 2^(b-1) - 1). */
export function activationSteps(bits: number, signed: boolean): number {
  return signed ? symmetricLevels(bits) : 2 ** bits - 1;
}

/**
 * Fake-quantised activation with a clip `clip` (a positive scalar tensor, e.g. a PACT variable):
 * value: round(clip(x, lo, a) / s) * s with s = a / steps, lo = 0 (unsigned) or -a (signed);
 * gradient: 1 to x inside [lo, a] (bounds included), 0 outside; to a: the sum of the incoming
 * gradient over the elements above a, minus its sum over the elements below -a (signed only).
 * Written as a custom gradient because tfjs's minimum/maximum gradients do not reduce over broadcast axes.
 */
export function fakeQuantActivation(x: tf.Tensor, clip: tf.Tensor, bits: number, signed: boolean): tf.Tensor {
  checkBits(bits, 'fakeQuantActivation');
  if (bits >= FULL_PRECISION) return x;
  if (clip.rank !== 0) throw new Error(`fakeQuantActivation: the clip must be a scalar, got shape [${clip.shape}]`);
  const steps = activationSteps(bits, signed);
  const f = tf.customGrad((xx, aa, save) => {
    const input = xx as tf.Tensor;
    const a = aa as tf.Scalar;
    (save as unknown as (tensors: tf.Tensor[]) => void)([input, a]);
    const lo = signed ? tf.neg(a) : tf.scalar(0);
    const step = tf.div(a, steps);
    const value = tf.mul(tf.round(tf.div(tf.minimum(tf.maximum(input, lo), a), step)), step);
    return {
      value,
      gradFunc: (dy, saved) => {
        const [xs, as] = saved as [tf.Tensor, tf.Scalar];
        const above = tf.cast(tf.greater(xs, as), 'float32');
        const below = tf.cast(tf.less(xs, signed ? tf.neg(as) : tf.scalar(0)), 'float32');
        const inside = tf.sub(tf.sub(1, above), below);
        const da = tf.sum(tf.mul(dy, above));
        return [tf.mul(dy, inside), signed ? tf.sub(da, tf.sum(tf.mul(dy, below))) : da];
      },
    };
  });
  return f(x, clip);
}
