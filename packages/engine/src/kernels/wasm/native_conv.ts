/**
 * The convolution kernels of a training step run by the native addon (src/native/addon.ts) on
 * the wasm heap in place: the operands are read where the wasm backend keeps them and the output
 * is allocated there. Each returns undefined when the addon is absent or the case is not one it
 * handles (not float32; depthwise with a channel multiplier other than 1), so that the caller
 * falls back to its WebAssembly implementation.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { nativeAddon, type NativeConvAddon } from '../../native/addon.js';
import { floatOffset, wasmHeap, type ConvGeometry, type TensorInfo } from './util.js';

type Slot = 'conv2d' | 'conv2dBackpropInput' | 'conv2dBackpropFilter'
  | 'depthwiseConv2d' | 'depthwiseConv2dBackpropInput' | 'depthwiseConv2dBackpropFilter';

function run(
  backend: BackendWasm, slot: Slot, operands: [TensorInfo, TensorInfo], outShape: number[],
  xShape: number[], filterShape: number[], g: ConvGeometry, strides: [number, number], dilations: [number, number],
): TensorInfo | undefined {
  const addon: NativeConvAddon | undefined = nativeAddon();
  if (addon === undefined || operands.some((t) => t.dtype !== 'float32')) return undefined;
  const out = backend.makeOutput(outShape, 'float32');
  const offset = (t: TensorInfo) => floatOffset(backend, t);
  const [n, h, w, ci] = xShape as [number, number, number, number];
  const [kh, kw, , m] = filterShape as [number, number, number, number];
  const depthwise = slot.startsWith('depthwise');
  if (depthwise && m !== 1) {
    backend.disposeData(out.dataId);
    return undefined;
  }
  const co = depthwise ? ci : m;
  const params = Int32Array.of(
    offset(operands[0]), offset(operands[1]), offset(out), n, h, w, ci, kh, kw, co,
    g.outHeight, g.outWidth, strides[0], strides[1], dilations[0], dilations[1], g.top, g.left,
  );
  // read the heap after allocating the output: allocation may grow (and replace) it
  addon[slot](wasmHeap(backend), params);
  return out;
}

export function nativeConv2D(backend: BackendWasm, x: TensorInfo, filter: TensorInfo, g: ConvGeometry, strides: [number, number], dilations: [number, number]) {
  const outShape = [x.shape[0]!, g.outHeight, g.outWidth, filter.shape[3]!];
  return run(backend, 'conv2d', [x, filter], outShape, x.shape, filter.shape, g, strides, dilations);
}

export function nativeConv2DBackpropInput(
  backend: BackendWasm, dy: TensorInfo, filter: TensorInfo, inputShape: number[], g: ConvGeometry, strides: [number, number], dilations: [number, number],
) {
  return run(backend, 'conv2dBackpropInput', [dy, filter], inputShape, inputShape, filter.shape, g, strides, dilations);
}

export function nativeConv2DBackpropFilter(
  backend: BackendWasm, x: TensorInfo, dy: TensorInfo, filterShape: number[], g: ConvGeometry, strides: [number, number], dilations: [number, number],
) {
  return run(backend, 'conv2dBackpropFilter', [x, dy], filterShape, x.shape, filterShape, g, strides, dilations);
}

export function nativeDepthwiseConv2D(backend: BackendWasm, x: TensorInfo, filter: TensorInfo, g: ConvGeometry, strides: [number, number], dilations: [number, number]) {
  const outShape = [x.shape[0]!, g.outHeight, g.outWidth, x.shape[3]! * filter.shape[3]!];
  return run(backend, 'depthwiseConv2d', [x, filter], outShape, x.shape, filter.shape, g, strides, dilations);
}

export function nativeDepthwiseConv2DBackpropInput(
  backend: BackendWasm, dy: TensorInfo, filter: TensorInfo, inputShape: number[], g: ConvGeometry, strides: [number, number], dilations: [number, number],
) {
  return run(backend, 'depthwiseConv2dBackpropInput', [dy, filter], inputShape, inputShape, filter.shape, g, strides, dilations);
}

export function nativeDepthwiseConv2DBackpropFilter(
  backend: BackendWasm, x: TensorInfo, dy: TensorInfo, filterShape: number[], g: ConvGeometry, strides: [number, number], dilations: [number, number],
) {
  return run(backend, 'depthwiseConv2dBackpropFilter', [x, dy], filterShape, x.shape, filterShape, g, strides, dilations);
}
