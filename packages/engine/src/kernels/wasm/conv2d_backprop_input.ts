/**
 * Conv2DBackpropInput for the wasm backend, replacing the stock scalar loop. The input gradient
 * is a stride-1 convolution of the zero-inserted output gradient with the spatially flipped
 * filter (its in/out channels swapped), dilated like the forward conv, padded so that output
 * row h lines up with input row h, then cropped to the input size.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import {
  assertNHWC, callWasm, convGeometry, crop4, free, inputGradAxis, pair, stockKernels, transpose, zeroInsert,
  type KernelArgs, type KernelConfig, type TensorInfo,
} from './util.js';
import { nativeConv2DBackpropInput } from './native_conv.js';

export function conv2DBackpropInput({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  assertNHWC('Conv2DBackpropInput', attrs.dataFormat);
  const inputShape = attrs.inputShape as [number, number, number, number];
  const strides = pair(attrs.strides, 1);
  const dilations = pair(attrs.dilations, 1);
  const g = convGeometry(inputShape, filter.shape, strides, dilations, attrs.pad, attrs.dimRoundingMode, false);
  const native = nativeConv2DBackpropInput(backend, dy, filter, inputShape, g, strides, dilations);
  if (native !== undefined) return native;
  const flipped = callWasm('Reverse', backend, { x: filter }, { dims: [0, 1] });
  const swapped = transpose(backend, flipped, [0, 1, 3, 2]); // [kh, kw, co, ci]
  free(backend, flipped);
  const dx = inputGradientByConv(backend, 'Conv2D', dy, swapped, inputShape, strides, dilations, g.top, g.left);
  free(backend, swapped);
  return dx;
}

/**
 * Shared core for dense and depthwise input gradients: `kernel` is 'Conv2D' or
 * 'DepthwiseConv2dNative' and `filter` is already flipped (and rearranged) for it. Returns a
 * tensor of shape [n, H, W, filter's output channels].
 */
export function inputGradientByConv(
  backend: BackendWasm, kernel: 'Conv2D' | 'DepthwiseConv2dNative', dy: TensorInfo, filter: TensorInfo,
  inputShape: number[], strides: [number, number], dilations: [number, number], padTop: number, padLeft: number,
): TensorInfo {
  const [n, inH, inW] = inputShape as [number, number, number, number];
  const [, outH, outW] = dy.shape as [number, number, number, number];
  const [kh, kw] = filter.shape as [number, number, number, number];
  const rows = inputGradAxis(inH, outH, kh, strides[0], dilations[0], padTop);
  const cols = inputGradAxis(inW, outW, kw, strides[1], dilations[1], padLeft);
  const strided = strides[0] > 1 || strides[1] > 1;
  const z = strided ? zeroInsert(backend, dy, strides[0], strides[1]) : dy;
  const conv = callWasm(kernel, backend, { x: z, filter }, {
    strides: [1, 1],
    dilations,
    pad: [[0, 0], [rows.padLo, rows.padHi], [cols.padLo, cols.padHi], [0, 0]],
    dataFormat: 'NHWC',
  });
  if (strided) free(backend, z);
  const outC = conv.shape[3]!;
  const { out, copied } = crop4(backend, conv, [0, rows.cropStart, cols.cropStart, 0], [n, inH, inW, outC]);
  if (copied) free(backend, conv);
  return out;
}

export const conv2DBackpropInputConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropInput',
  backendName: 'wasm',
  // The stock kernel stays reachable (unregisterWasmKernels) only if its setup ran too.
  setupFunc: (backend) => stockKernels.get('Conv2DBackpropInput')?.setupFunc?.(backend),
  kernelFunc: conv2DBackpropInput as unknown as KernelConfig['kernelFunc'],
};
