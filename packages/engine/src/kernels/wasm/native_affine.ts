/**
 * Batch normalisation in evaluation mode (and anything else of the form x * scale + shift per
 * channel), fused with an optional residual sum and ReLU, as one native kernel on the wasm heap:
 *   KdbenchChannelAffine (x, scale, shift[, residual]; relu) -> act(x * scale + shift [+ residual])
 * It serves evaluation passes and teachers' forward passes. Its gradient (for methods that
 * differentiate through a network in evaluation mode: data-free generators, adversarial inputs) is
 * registered and composed from ops: g = dy [* (out > 0)], dx = g * scale, dscale = sum(g * x),
 * dshift = sum(g), dresidual = g (sums over every axis but the last).
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { tf } from '../../tf.js';
import { nativeAddon } from '../../native/addon.js';
import { floatOffset, wasmHeap, type KernelConfig, type TensorInfo } from './util.js';

export const CHANNEL_AFFINE = 'KdbenchChannelAffine';

function channelAffine({ inputs, backend, attrs }: { inputs: Record<string, TensorInfo | undefined>; backend: BackendWasm; attrs: Record<string, unknown> }): TensorInfo {
  const addon = nativeAddon();
  if (addon === undefined) throw new Error(`engine: ${CHANNEL_AFFINE} needs the native addon (check fusedChannelAffineAvailable() first)`);
  const { x, scale, shift, residual } = inputs as { x: TensorInfo; scale: TensorInfo; shift: TensorInfo; residual?: TensorInfo };
  const c = x.shape[x.shape.length - 1]!;
  const out = backend.makeOutput(x.shape, 'float32');
  const at = (t: TensorInfo | undefined) => (t === undefined ? -1 : floatOffset(backend, t));
  addon.channelAffine(wasmHeap(backend), Int32Array.of(at(x), at(scale), at(shift), at(residual), at(out), tf.util.sizeFromShape(x.shape) / c, c), attrs.relu === true);
  return out;
}

export const channelAffineConfig: KernelConfig = {
  kernelName: CHANNEL_AFFINE,
  backendName: 'wasm',
  kernelFunc: channelAffine as unknown as KernelConfig['kernelFunc'],
};

export const channelAffineGradConfig: tf.GradConfig = {
  kernelName: CHANNEL_AFFINE,
  inputsToSave: ['x', 'scale'],
  outputsToSave: [true],
  gradFunc: (dy, saved, attrs) => {
    const [x, scale, out] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
    const a = attrs as Record<string, unknown>;
    const axes = x.shape.slice(0, -1).map((_, i) => i);
    const g = a.relu === true ? tf.mul(dy as tf.Tensor, tf.step(out)) : (dy as tf.Tensor);
    const grads: Record<string, () => tf.Tensor> = {
      x: () => tf.mul(g, scale),
      scale: () => tf.sum(tf.mul(g, x), axes),
      shift: () => tf.sum(g, axes),
    };
    if (a.hasResidual === true) grads.residual = () => g;
    return grads;
  },
};

/** Whether fusedChannelAffine can run now (wasm backend active, addon loaded and enabled). */
export function fusedChannelAffineAvailable(): boolean {
  return tf.getBackend() === 'wasm' && nativeAddon() !== undefined && tf.getKernel(CHANNEL_AFFINE, 'wasm') !== undefined;
}

/** act(x * scale + shift [+ residual]) with scale and shift ([C]) over the last axis of x. */
export function fusedChannelAffine(x: tf.Tensor, scale: tf.Tensor, shift: tf.Tensor, opts: { relu?: boolean; residual?: tf.Tensor } = {}): tf.Tensor {
  const c = x.shape[x.shape.length - 1]!;
  if (x.dtype !== 'float32') throw new Error(`fusedChannelAffine: x must be float32, got ${x.dtype}`);
  for (const [name, t] of [['scale', scale], ['shift', shift]] as const) {
    if (t.rank !== 1 || t.size !== c || t.dtype !== 'float32') throw new Error(`fusedChannelAffine: ${name} must be [${c}] float32, got ${t.dtype} [${t.shape}]`);
  }
  const inputs: tf.NamedTensorMap = { x, scale, shift };
  if (opts.residual !== undefined) {
    if (!tf.util.arraysEqual(opts.residual.shape, x.shape)) throw new Error(`fusedChannelAffine: residual shape [${opts.residual.shape}] differs from the input's [${x.shape}]`);
    inputs.residual = opts.residual;
  }
  return tf.engine().runKernel(CHANNEL_AFFINE, inputs, { relu: opts.relu === true, hasResidual: opts.residual !== undefined }) as tf.Tensor;
}
