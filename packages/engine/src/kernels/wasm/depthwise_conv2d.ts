/**
 * DepthwiseConv2dNative for the wasm backend: the native addon's kernel when it is built and the
 * channel multiplier is 1, otherwise the stock XNNPACK kernel (which this config replaces and
 * keeps reachable).
 */
import { nativeDepthwiseConv2D } from './native_conv.js';
import {
  assertNHWC, callWasm, convGeometry, pair, stockKernels,
  type KernelArgs, type KernelConfig, type TensorInfo,
} from './util.js';

export function depthwiseConv2D({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { x, filter } = inputs as { x: TensorInfo; filter: TensorInfo };
  assertNHWC('DepthwiseConv2dNative', attrs.dataFormat);
  const strides = pair(attrs.strides, 1);
  const dilations = pair(attrs.dilations, 1);
  const g = convGeometry(x.shape, filter.shape, strides, dilations, attrs.pad, attrs.dimRoundingMode, true);
  return nativeDepthwiseConv2D(backend, x, filter, g, strides, dilations) ?? callWasm('DepthwiseConv2dNative', backend, { x, filter }, attrs);
}

export const depthwiseConv2DConfig: KernelConfig = {
  kernelName: 'DepthwiseConv2dNative',
  backendName: 'wasm',
  setupFunc: (backend) => stockKernels.get('DepthwiseConv2dNative')?.setupFunc?.(backend),
  kernelFunc: depthwiseConv2D as unknown as KernelConfig['kernelFunc'],
};
