/**
 * Training-mode batch normalisation, fused with an optional residual sum and ReLU, as two kernels
 * for the wasm backend, run by the native addon in place on the wasm heap (formulas in
 * native/src/rows.c):
 *   KdbenchBatchNormTrain (x, gamma, beta[, residual]; eps, relu) -> [out, mean, variance, rstd]
 *     out = act(gamma * (x - mean) * rstd + beta [+ residual]), act = ReLU when relu, else identity
 *   KdbenchBatchNormGrad  (dout, x, gamma, mean, rstd[, out]; residual) -> [dx, dgamma, dbeta[, dresidual]]
 *     (out, the forward output, is given with ReLU: its sign is the ReLU's mask)
 * The forward kernel's gradient is registered with tfjs (x, gamma, beta and residual; the
 * statistics outputs carry no gradient: tfjs hands them zeros, which are ignored). The backward
 * kernel recomputes xhat from the saved input, so the step keeps no extra activation-sized tensor.
 * x is NHWC (or any shape whose last axis is the channel). Used by the models' BatchNorm through
 * fusedBatchNormTrain when fusedBatchNormAvailable() (wasm with the addon); other backends keep the
 * elementary-op formulation.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { tf } from '../../tf.js';
import { nativeAddon } from '../../native/addon.js';
import { floatOffset, wasmHeap, type KernelConfig, type TensorInfo } from './util.js';

export const BATCH_NORM_TRAIN = 'KdbenchBatchNormTrain';
export const BATCH_NORM_GRAD = 'KdbenchBatchNormGrad';

type Args = { inputs: Record<string, TensorInfo | undefined>; backend: BackendWasm; attrs: Record<string, unknown> };

function rowsAndChannels(x: TensorInfo): [number, number] {
  const c = x.shape[x.shape.length - 1]!;
  return [x.shape.reduce((a, b) => a * b, 1) / c, c];
}

function requireAddon(kernel: string) {
  const addon = nativeAddon();
  if (addon === undefined) throw new Error(`engine: ${kernel} needs the native addon (check fusedBatchNormAvailable() first)`);
  return addon;
}

function batchNormTrain({ inputs, backend, attrs }: Args): TensorInfo[] {
  const addon = requireAddon(BATCH_NORM_TRAIN);
  const { x, gamma, beta, residual } = inputs as { x: TensorInfo; gamma: TensorInfo; beta: TensorInfo; residual?: TensorInfo };
  const [m, c] = rowsAndChannels(x);
  const outs = [x.shape, [c], [c], [c]].map((shape) => backend.makeOutput(shape, 'float32'));
  const at = (t: TensorInfo | undefined) => (t === undefined ? -1 : floatOffset(backend, t));
  addon.batchNormForward(wasmHeap(backend), Int32Array.of(at(x), at(gamma), at(beta), at(residual), ...outs.map(at), m, c), attrs.eps as number, attrs.relu === true);
  return outs;
}

function batchNormGrad({ inputs, backend, attrs }: Args): TensorInfo[] {
  const addon = requireAddon(BATCH_NORM_GRAD);
  const { dout, x, out, gamma, mean, rstd } = inputs as Record<'dout' | 'x' | 'gamma' | 'mean' | 'rstd', TensorInfo> & { out?: TensorInfo };
  const [m, c] = rowsAndChannels(dout);
  const shapes = [dout.shape, [c], [c], ...(attrs.residual === true ? [dout.shape] : [])];
  const outs = shapes.map((shape) => backend.makeOutput(shape, 'float32'));
  const at = (t: TensorInfo | undefined) => (t === undefined ? -1 : floatOffset(backend, t));
  addon.batchNormBackward(wasmHeap(backend), Int32Array.of(
    at(dout), at(x), at(out), at(gamma), at(mean), at(rstd), at(outs[0]), at(outs[1]), at(outs[2]), at(outs[3]), m, c,
  ));
  return outs;
}

export const batchNormTrainConfig: KernelConfig = {
  kernelName: BATCH_NORM_TRAIN,
  backendName: 'wasm',
  kernelFunc: batchNormTrain as unknown as KernelConfig['kernelFunc'],
};

export const batchNormGradConfig: KernelConfig = {
  kernelName: BATCH_NORM_GRAD,
  backendName: 'wasm',
  kernelFunc: batchNormGrad as unknown as KernelConfig['kernelFunc'],
};

/** The gradient of KdbenchBatchNormTrain (registered once, for every backend that has the kernel). */
export const batchNormTrainGradConfig: tf.GradConfig = {
  kernelName: BATCH_NORM_TRAIN,
  inputsToSave: ['x', 'gamma'],
  outputsToSave: [true, true, false, true],
  gradFunc: (dys, saved, attrs) => {
    const [x, gamma, out, mean, rstd] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
    const dout = (dys as tf.Tensor[])[0]!;
    const relu = (attrs as Record<string, unknown>).relu === true;
    const residual = (attrs as Record<string, unknown>).hasResidual === true;
    const inputs: tf.NamedTensorMap = { dout, x, gamma, mean, rstd };
    if (relu) inputs.out = out;
    const [dx, dgamma, dbeta, dres] = tf.engine().runKernel(BATCH_NORM_GRAD, inputs, { residual }) as tf.Tensor[];
    const grads: Record<string, () => tf.Tensor> = { x: () => dx!, gamma: () => dgamma!, beta: () => dbeta! };
    if (residual) grads.residual = () => dres!;
    return grads;
  },
};

/** Whether the fused batch-norm kernels can run now (wasm backend active, addon loaded and enabled). */
export function fusedBatchNormAvailable(): boolean {
  return tf.getBackend() === 'wasm' && nativeAddon() !== undefined && tf.getKernel(BATCH_NORM_TRAIN, 'wasm') !== undefined;
}

export interface FusedBatchNormOptions {
  /** Apply ReLU to the result. */
  relu?: boolean;
  /** Added after the affine transform (before the ReLU): a block's shortcut. */
  residual?: tf.Tensor;
}

export interface FusedBatchNormForward {
  out: tf.Tensor; mean: tf.Tensor1D; variance: tf.Tensor1D;
}

/** Training-mode batch norm over every axis but the last, fused with `opts` (see the file comment). */
export function fusedBatchNormTrain(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number, opts: FusedBatchNormOptions = {}): FusedBatchNormForward {
  const inputs: tf.NamedTensorMap = { x, gamma, beta };
  if (opts.residual !== undefined) {
    if (!tf.util.arraysEqual(opts.residual.shape, x.shape)) {
      throw new Error(`fusedBatchNormTrain: residual shape [${opts.residual.shape}] differs from the input's [${x.shape}]`);
    }
    inputs.residual = opts.residual;
  }
  const attrs = { eps, relu: opts.relu === true, hasResidual: opts.residual !== undefined };
  const [out, mean, variance, rstd] = tf.engine().runKernel(BATCH_NORM_TRAIN, inputs, attrs) as tf.Tensor[];
  rstd!.dispose(); // the gradient keeps its own reference when recording
  return { out: out!, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
}
