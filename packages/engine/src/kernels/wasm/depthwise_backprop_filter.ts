/**
 * DepthwiseConv2dNativeBackpropFilter for the wasm backend (which has none). With channel
 * multiplier m, dW[kh,kw,c,q] = sum_{n,oh,ow} x[n, oh*s - pt + kh*d, ow*s - pl + kw*d, c] *
 * dy[n,oh,ow,c*m+q]. Each (n, c) pair is an independent channel of a single depthwise
 * convolution: x as [1, H, W, n*c], dy as an [OH, OW, n*c, m] filter, stride and dilation swapped.
 * Its output [1, kh', kw', n*c*m] is cropped to the filter size and summed over n. With the
 * native addon and m = 1, its kernel runs instead.
 */
import {
  callWasm, convGeometry, crop4, filterGradPadHi, free, pair, transpose, view,
  type KernelArgs, type KernelConfig, type TensorInfo,
} from './util.js';
import { nativeDepthwiseConv2DBackpropFilter } from './native_conv.js';

export function depthwiseConv2dNativeBackpropFilter({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const filterShape = attrs.filterShape as [number, number, number, number];
  const strides = pair(attrs.strides, 1);
  const dilations = pair(attrs.dilations, 1);
  const g = convGeometry(x.shape, filterShape, strides, dilations, attrs.pad, attrs.dimRoundingMode, true);
  const [n, inH, inW, c] = x.shape as [number, number, number, number];
  const [, outH, outW, outC] = dy.shape as [number, number, number, number];
  const [kh, kw, , m] = filterShape;
  if (outC !== c * m) {
    throw new Error(`engine wasm DepthwiseConv2dNativeBackpropFilter: dy has ${outC} channels, expected ${c}*${m}`);
  }
  const native = nativeDepthwiseConv2DBackpropFilter(backend, x, dy, filterShape, g, strides, dilations);
  if (native !== undefined) return native;
  const padBottom = filterGradPadHi(inH, outH, kh, strides[0], dilations[0], g.top);
  const padRight = filterGradPadHi(inW, outW, kw, strides[1], dilations[1], g.left);

  const xT = transpose(backend, x, [1, 2, 0, 3]); // [H, W, n, c]
  const dyT = transpose(backend, dy, [1, 2, 0, 3]); // [OH, OW, n, c*m]
  const conv = callWasm('DepthwiseConv2dNative', backend, {
    x: view(xT, [1, inH, inW, n * c]),
    filter: view(dyT, [outH, outW, n * c, m]),
  }, {
    strides: dilations,
    dilations: strides,
    pad: [[0, 0], [g.top, padBottom], [g.left, padRight], [0, 0]],
    dimRoundingMode: undefined,
  }); // [1, >=kh, >=kw, n*c*m]
  free(backend, xT, dyT);
  const [, ch, cw] = conv.shape as [number, number, number, number];
  const { out: cropped, copied } = crop4(backend, view(conv, [ch, cw, n, c * m]), [0, 0, 0, 0], [kh, kw, n, c * m]);
  if (copied) free(backend, conv);
  const summed = callWasm('Sum', backend, { x: cropped }, { axis: [2], keepDims: false }); // [kh, kw, c*m]
  free(backend, cropped);
  return view(summed, [kh, kw, c, m]);
}

export const depthwiseConv2dNativeBackpropFilterConfig: KernelConfig = {
  kernelName: 'DepthwiseConv2dNativeBackpropFilter',
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dNativeBackpropFilter as unknown as KernelConfig['kernelFunc'],
};
