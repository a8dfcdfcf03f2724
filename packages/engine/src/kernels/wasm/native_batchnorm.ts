/**
 * Training-mode batch normalisation as two fused kernels for the wasm backend, run by the native
 * addon in place on the wasm heap (see native/src/rows.c for the formulas):
 *   KdbenchBatchNormTrain (x, gamma, beta; eps) -> [y, xhat, mean, variance, rstd]
 *   KdbenchBatchNormGrad  (dy, xhat, gamma, rstd) -> [dx, dgamma, dbeta]
 * x is NHWC (or any shape whose last axis is the channel). Used by the models' BatchNorm through
 * fusedBatchNormTrain / fusedBatchNormGrad when fusedBatchNormAvailable() (wasm with the addon);
 * other backends keep the elementary-op formulation.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { tf } from '../../tf.js';
import { nativeAddon } from '../../native/addon.js';
import { floatOffset, wasmHeap, type KernelConfig, type TensorInfo } from './util.js';

export const BATCH_NORM_TRAIN = 'KdbenchBatchNormTrain';
export const BATCH_NORM_GRAD = 'KdbenchBatchNormGrad';

type Args = { inputs: Record<string, TensorInfo>; backend: BackendWasm; attrs: Record<string, unknown> };

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
  const { x, gamma, beta } = inputs as { x: TensorInfo; gamma: TensorInfo; beta: TensorInfo };
  const [m, c] = rowsAndChannels(x);
  const outs = [x.shape, x.shape, [c], [c], [c]].map((shape) => backend.makeOutput(shape, 'float32'));
  const at = (t: TensorInfo) => floatOffset(backend, t);
  addon.batchNormForward(wasmHeap(backend), Int32Array.of(at(x), at(gamma), at(beta), ...outs.map(at), m, c), attrs.eps as number);
  return outs;
}

function batchNormGrad({ inputs, backend }: Args): TensorInfo[] {
  const addon = requireAddon(BATCH_NORM_GRAD);
  const { dy, xhat, gamma, rstd } = inputs as Record<'dy' | 'xhat' | 'gamma' | 'rstd', TensorInfo>;
  const [m, c] = rowsAndChannels(dy);
  const outs = [dy.shape, [c], [c]].map((shape) => backend.makeOutput(shape, 'float32'));
  const at = (t: TensorInfo) => floatOffset(backend, t);
  addon.batchNormBackward(wasmHeap(backend), Int32Array.of(at(dy), at(xhat), at(gamma), at(rstd), ...outs.map(at), m, c));
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

/** Whether the fused batch-norm kernels can run now (wasm backend active, addon loaded and enabled). */
export function fusedBatchNormAvailable(): boolean {
  return tf.getBackend() === 'wasm' && nativeAddon() !== undefined && tf.getKernel(BATCH_NORM_TRAIN, 'wasm') !== undefined;
}

export interface FusedBatchNormForward {
  y: tf.Tensor; xhat: tf.Tensor; mean: tf.Tensor1D; variance: tf.Tensor1D; rstd: tf.Tensor1D;
}

export function fusedBatchNormTrain(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number): FusedBatchNormForward {
  const [y, xhat, mean, variance, rstd] = tf.engine().runKernel(BATCH_NORM_TRAIN, { x, gamma, beta }, { eps }) as tf.Tensor[];
  return { y: y!, xhat: xhat!, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D, rstd: rstd as tf.Tensor1D };
}

export function fusedBatchNormGrad(dy: tf.Tensor, xhat: tf.Tensor, gamma: tf.Tensor, rstd: tf.Tensor): { dx: tf.Tensor; dgamma: tf.Tensor1D; dbeta: tf.Tensor1D } {
  const [dx, dgamma, dbeta] = tf.engine().runKernel(BATCH_NORM_GRAD, { dy, xhat, gamma, rstd }, {}) as tf.Tensor[];
  return { dx: dx!, dgamma: dgamma as tf.Tensor1D, dbeta: dbeta as tf.Tensor1D };
}
