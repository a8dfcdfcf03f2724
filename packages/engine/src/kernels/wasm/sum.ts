/**
 * Sum for the wasm backend: a reduction over every axis but the last (bias gradients, channel
 * statistics) runs as the native addon's column sums; the stock kernel first transposes the
 * reduced axes to the end, a copy of the whole tensor. Every other case, and no addon, is stock,
 * except an empty input: the stock kernel (tfjs 4.22) returns uninitialised memory for it, here zeros.
 */
import { tf } from '../../tf.js';
import { nativeAddon } from '../../native/addon.js';
import { callWasm, floatOffset, stockKernels, wasmHeap, type KernelArgs, type KernelConfig, type TensorInfo } from './util.js';

export function sum({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { x } = inputs as { x: TensorInfo };
  const addon = nativeAddon();
  const rank = x.shape.length;
  const axes = tf.util.parseAxisParam(attrs.axis as number | number[], x.shape).sort((a, b) => a - b);
  if (x.shape.some((d) => d === 0)) {
    const [outShape] = tf.backend_util.computeOutAndReduceShapes(x.shape, axes);
    const out = backend.makeOutput(attrs.keepDims ? tf.backend_util.expandShapeToKeepDim(outShape, axes) : outShape, x.dtype === 'bool' ? 'int32' : x.dtype);
    backend.typedArrayFromHeap(out).fill(0);
    return out;
  }
  const leading = rank >= 2 && axes.length === rank - 1 && axes.every((a, i) => a === i);
  if (addon === undefined || x.dtype !== 'float32' || !leading) return callWasm('Sum', backend, inputs, attrs);
  const c = x.shape[rank - 1]!;
  const m = x.shape.reduce((a, b) => a * b, 1) / c;
  const out = backend.makeOutput(attrs.keepDims ? [...x.shape.slice(0, -1).map(() => 1), c] : [c], 'float32');
  addon.sumRows(wasmHeap(backend), Int32Array.of(floatOffset(backend, x), floatOffset(backend, out), m, c));
  return out;
}

export const sumConfig: KernelConfig = {
  kernelName: 'Sum',
  backendName: 'wasm',
  setupFunc: (backend) => stockKernels.get('Sum')?.setupFunc?.(backend),
  kernelFunc: sum as unknown as KernelConfig['kernelFunc'],
};
