/**
 * DepthwiseConv2dNativeBackpropInput for the wasm backend (which has none). With channel
 * multiplier m, dx[..., c] = sum_q (dy[..., c*m+q] correlated with the flipped w[:, :, c, q]).
 * That is one depthwise convolution over the c*m channels of the zero-inserted dy with the
 * flipped filter seen as [kh, kw, c*m, 1], followed (when m > 1) by a sum over q. With the native
 * addon and m = 1, its kernel runs instead.
 */
import { inputGradientByConv } from './conv2d_backprop_input.js';
import { nativeDepthwiseConv2DBackpropInput } from './native_conv.js';
import {
  callWasm, convGeometry, free, pair, view,
  type KernelArgs, type KernelConfig, type TensorInfo,
} from './util.js';

export function depthwiseConv2dNativeBackpropInput({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const inputShape = attrs.inputShape as [number, number, number, number];
  const strides = pair(attrs.strides, 1);
  const dilations = pair(attrs.dilations, 1);
  const g = convGeometry(inputShape, filter.shape, strides, dilations, attrs.pad, attrs.dimRoundingMode, true);
  const [n, inH, inW, c] = inputShape;
  const [kh, kw, , m] = filter.shape as [number, number, number, number];
  if (dy.shape[3] !== c * m) {
    throw new Error(`engine wasm DepthwiseConv2dNativeBackpropInput: dy has ${dy.shape[3]} channels, expected ${c}*${m}`);
  }
  const native = nativeDepthwiseConv2DBackpropInput(backend, dy, filter, inputShape, g, strides, dilations);
  if (native !== undefined) return native;
  const flipped = callWasm('Reverse', backend, { x: filter }, { dims: [0, 1] });
  const perChannel = inputGradientByConv(
    backend, 'DepthwiseConv2dNative', dy, view(flipped, [kh, kw, c * m, 1]), inputShape, strides, dilations, g.top, g.left,
  ); // [n, H, W, c*m]
  free(backend, flipped);
  if (m === 1) return perChannel;
  const summed = callWasm('Sum', backend, { x: view(perChannel, [n, inH, inW, c, m]) }, { axis: [4], keepDims: false });
  free(backend, perChannel);
  return summed;
}

export const depthwiseConv2dNativeBackpropInputConfig: KernelConfig = {
  kernelName: 'DepthwiseConv2dNativeBackpropInput',
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dNativeBackpropInput as unknown as KernelConfig['kernelFunc'],
};
