/**
 * Batch normalisation over NHWC activations (Ioffe & Szegedy, ICML 2015) with PyTorch's
 * BatchNorm2d semantics: training normalises with the batch mean and biased variance over
 * (N, H, W) and updates running statistics with momentum 0.1 using the unbiased variance;
 * evaluation normalises with the running statistics; eps 1e-5; gamma = 1, beta = 0 initially.
 *
 * Written with elementary ops (mean, sub, mul, add, rsqrt) so it runs on every backend, including
 * wasm (no fused batchNorm gradient kernel needed). In training mode its gradient is given in
 * closed form (tf.customGrad): with xhat = (x - mean) * rstd over the N*H*W positions of a channel,
 *   dbeta = sum dy, dgamma = sum dy * xhat, dx = gamma * rstd * (dy - dbeta / n - xhat * dgamma / n),
 * a handful of kernels instead of the ~20 that differentiating the forward ops produces (batch-norm
 * reductions and elementwise chains are a large share of a wasm training step).
 * apply() also takes what follows the normalisation in the zoo's blocks: a residual to add and a
 * ReLU, relu(bn(x) + residual). On wasm with kdbench's native addon, training mode runs all of it
 * as one fused kernel and its gradient as another (engine: fusedBatchNormTrain), and evaluation
 * mode as one per-channel affine kernel (engine: fusedChannelAffine); elsewhere the same result is
 * composed from ops. The running-stat update is a Variable.assign inside a nested tidy:
 * it leaks nothing, and it works inside tf.grads / tf.variableGrads because the update does not
 * lie on the path to the loss.
 */
import { fusedBatchNormAvailable, fusedBatchNormTrain, fusedChannelAffine, fusedChannelAffineAvailable, tf } from '@kdbench/engine';
import type { Scope } from './store.js';
import { constantInit } from './init.js';
import { activeHooks } from './hooks.js';

export const BN_EPS = 1e-5;
export const BN_MOMENTUM = 0.1;

/** What apply() adds after the normalisation: relu(bn(x) + residual). */
export interface BatchNormApplyOptions {
  /** Added to the normalised output (a block's shortcut), same shape as x. */
  residual?: tf.Tensor4D;
  /** Apply ReLU last. */
  relu?: boolean;
}

/** y [+ residual], then ReLU when asked: the unfused tail of apply(). */
function tail(y: tf.Tensor4D, opts: BatchNormApplyOptions): tf.Tensor4D {
  const summed: tf.Tensor4D = opts.residual ? tf.add(y, opts.residual) : y;
  return opts.relu ? tf.relu(summed) : summed;
}

export class BatchNorm {
  readonly gamma: tf.Variable;
  readonly beta: tf.Variable;
  readonly runningMean: tf.Variable;
  readonly runningVar: tf.Variable;
  /** Stable layer name (the scope prefix), as forward hooks see it. */
  readonly name: string;

  constructor(
    scope: Scope,
    readonly channels: number,
  ) {
    this.name = scope.prefix;
    this.gamma = scope.variable('weight', [channels], constantInit(1));
    this.beta = scope.variable('bias', [channels], constantInit(0));
    this.runningMean = scope.variable('running_mean', [channels], constantInit(0), false);
    this.runningVar = scope.variable('running_var', [channels], constantInit(1), false);
  }

  /** relu(bn(x) + residual), with the residual and the ReLU each only when given in `opts`. */
  apply(x: tf.Tensor4D, training: boolean, opts: BatchNormApplyOptions = {}): tf.Tensor4D {
    const hooks = activeHooks();
    if (!training) {
      if (hooks?.batchNorm) {
        const m = tf.mean(x, [0, 1, 2]) as tf.Tensor1D;
        const c = tf.sub(x, m);
        hooks.batchNorm(this.name, m, tf.mean(tf.mul(c, c), [0, 1, 2]) as tf.Tensor1D);
      }
      // y = x * scale + shift with scale = gamma / sqrt(rv + eps), shift = beta - rm * scale
      const scale = tf.mul(this.gamma, tf.rsqrt(tf.add(this.runningVar, BN_EPS)));
      const shift = tf.sub(this.beta, tf.mul(this.runningMean, scale));
      if (fusedChannelAffineAvailable() && x.dtype === 'float32') {
        if (!BatchNorm.fuseTails) return tail(fusedChannelAffine(x, scale, shift, {}) as tf.Tensor4D, opts);
        return fusedChannelAffine(x, scale, shift, opts) as tf.Tensor4D;
      }
      return tail(tf.add(tf.mul(x, scale), shift), opts);
    }
    if (!BatchNorm.closedFormGradient || hooks?.batchNorm) {
      // differentiable through the statistics (DeepInversion's hook needs gradients of mean/variance)
      const mean = tf.mean(x, [0, 1, 2]);
      const centered = tf.sub(x, mean);
      const variance = tf.mean(tf.mul(centered, centered), [0, 1, 2]);
      hooks?.batchNorm?.(this.name, mean as tf.Tensor1D, variance as tf.Tensor1D);
      const scale = tf.mul(this.gamma, tf.rsqrt(tf.add(variance, BN_EPS)));
      if (!hooks?.keepRunningStats) this.updateRunningStats(mean, variance, x.shape[0] * x.shape[1] * x.shape[2]);
      return tail(tf.add(tf.mul(centered, scale), this.beta), opts);
    }
    const n = x.shape[0] * x.shape[1] * x.shape[2];
    const onStats = (mean: tf.Tensor, variance: tf.Tensor) => {
      if (!hooks?.keepRunningStats) this.updateRunningStats(mean, variance, n);
    };
    if (fusedBatchNormAvailable() && x.dtype === 'float32') {
      const fused = fusedBatchNormTrain(x, this.gamma, this.beta, BN_EPS, BatchNorm.fuseTails ? opts : {});
      onStats(fused.mean, fused.variance);
      tf.dispose([fused.mean, fused.variance]);
      return BatchNorm.fuseTails ? fused.out as tf.Tensor4D : tail(fused.out as tf.Tensor4D, opts);
    }
    return tail(trainingBatchNorm(x, this.gamma, this.beta, onStats), opts);
  }

  /** Use the closed-form gradient in training mode (false: differentiate the forward ops; for comparisons). */
  static closedFormGradient = true;

  /** Fold the residual and ReLU of `opts` into the native kernels (false: add them with ops after the kernel; for comparisons). */
  static fuseTails = true;

  private updateRunningStats(mean: tf.Tensor, biasedVar: tf.Tensor, n: number): void {
    const unbias = n > 1 ? n / (n - 1) : 1;
    tf.tidy(() => {
      const newMean = tf.add(tf.mul(this.runningMean, 1 - BN_MOMENTUM), tf.mul(mean, BN_MOMENTUM));
      const newVar = tf.add(tf.mul(this.runningVar, 1 - BN_MOMENTUM), tf.mul(biasedVar, BN_MOMENTUM * unbias));
      this.runningMean.assign(newMean);
      this.runningVar.assign(newVar);
    });
  }
}

/**
 * Training-mode batch norm y = gamma * (x - mean) * rstd + beta over axes [0, 1, 2] with the
 * closed-form gradient for x, gamma and beta; `onStats` receives the batch mean and biased variance
 * (alive only during the call: the forward pass's intermediates are released when it returns).
 */
function trainingBatchNorm(x: tf.Tensor4D, gamma: tf.Tensor, beta: tf.Tensor, onStats: (mean: tf.Tensor, variance: tf.Tensor) => void): tf.Tensor4D {
  const n = x.shape[0] * x.shape[1] * x.shape[2];
  const f = tf.customGrad((xi, g, b, save) => {
    const input = xi as tf.Tensor;
    const scale = g as tf.Tensor;
    const mean = tf.mean(input, [0, 1, 2]);
    const centered = tf.sub(input, mean);
    const variance = tf.mean(tf.square(centered), [0, 1, 2]);
    const rstd = tf.rsqrt(tf.add(variance, BN_EPS));
    const xhat = tf.mul(centered, rstd);
    onStats(mean, variance);
    (save as unknown as (tensors: tf.Tensor[]) => void)([xhat, rstd, scale]);
    return {
      value: tf.add(tf.mul(xhat, scale), b as tf.Tensor),
      gradFunc: (dy, saved) => {
        const [xh, rs, gm] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
        const dbeta = tf.sum(dy, [0, 1, 2]);
        const dgamma = tf.sum(tf.mul(dy, xh), [0, 1, 2]);
        const inner = tf.sub(tf.sub(dy, tf.div(dbeta, n)), tf.mul(xh, tf.div(dgamma, n)));
        return [tf.mul(inner, tf.mul(gm, rs)), dgamma, dbeta];
      },
    };
  });
  return f(x, gamma, beta) as tf.Tensor4D;
}
