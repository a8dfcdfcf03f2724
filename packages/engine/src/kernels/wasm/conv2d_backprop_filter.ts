/**
 * Conv2DBackpropFilter for the wasm backend (which has none). The filter gradient
 *   dW[kh,kw,ci,co] = sum_{n,oh,ow} x[n, oh*s - pt + kh*d, ow*s - pl + kw*d, ci] * dy[n,oh,ow,co]
 * is itself a convolution: take x as [ci, H, W, n] (channels as batch, batch as channels), use dy
 * rearranged to [OH, OW, n, co] as the filter, swap the roles of stride and dilation, keep the
 * top/left padding, then crop to the filter size and move ci next to co. Exact, and it runs on
 * the XNNPACK convolution the wasm backend already has.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import {
  assertNHWC, callWasm, convGeometry, crop4, filterGradPadHi, free, pair, transpose,
  type KernelArgs, type KernelConfig, type TensorInfo,
} from './util.js';
import { nativeConv2DBackpropFilter } from './native_conv.js';

export function conv2DBackpropFilter({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  assertNHWC('Conv2DBackpropFilter', attrs.dataFormat);
  const filterShape = attrs.filterShape as [number, number, number, number];
  const strides = pair(attrs.strides, 1);
  const dilations = pair(attrs.dilations, 1);
  const g = convGeometry(x.shape, filterShape, strides, dilations, attrs.pad, attrs.dimRoundingMode, false);
  return nativeConv2DBackpropFilter(backend, x, dy, filterShape, g, strides, dilations)
    ?? filterGradientByConv(backend, x, dy, filterShape, strides, dilations, g.top, g.left);
}

/** The shared core, also used by the depthwise filter gradient (with a batch of 1). */
export function filterGradientByConv(
  backend: BackendWasm, x: TensorInfo, dy: TensorInfo, filterShape: number[],
  strides: [number, number], dilations: [number, number], padTop: number, padLeft: number,
): TensorInfo {
  const [, inH, inW] = x.shape as [number, number, number, number];
  const [, outH, outW, outC] = dy.shape as [number, number, number, number];
  const [kh, kw, inC] = filterShape as [number, number, number, number];
  const padBottom = filterGradPadHi(inH, outH, kh, strides[0], dilations[0], padTop);
  const padRight = filterGradPadHi(inW, outW, kw, strides[1], dilations[1], padLeft);

  const xT = transpose(backend, x, [3, 1, 2, 0]); // [ci, H, W, n]
  const dyT = transpose(backend, dy, [1, 2, 0, 3]); // [OH, OW, n, co]
  const conv = callWasm('Conv2D', backend, { x: xT, filter: dyT }, {
    strides: dilations,
    dilations: strides,
    pad: [[0, 0], [padTop, padBottom], [padLeft, padRight], [0, 0]],
    dataFormat: 'NHWC',
  }); // [ci, >=kh, >=kw, co]
  free(backend, xT, dyT);
  const { out: cropped, copied } = crop4(backend, conv, [0, 0, 0, 0], [inC, kh, kw, outC]);
  if (copied) free(backend, conv);
  const dw = transpose(backend, cropped, [1, 2, 0, 3]); // [kh, kw, ci, co]
  free(backend, cropped);
  return dw;
}

export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter as unknown as KernelConfig['kernelFunc'],
};
