/**
 * Conv2D for the wasm backend: the native addon's SGEMM convolution when it is built, otherwise
 * the stock XNNPACK kernel (which this config replaces and keeps reachable).
 */
import { nativeConv2D } from './native_conv.js';
import {
  assertNHWC, callWasm, convGeometry, pair, stockKernels,
  type KernelArgs, type KernelConfig, type TensorInfo,
} from './util.js';

export function conv2D({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { x, filter } = inputs as { x: TensorInfo; filter: TensorInfo };
  assertNHWC('Conv2D', attrs.dataFormat);
  const strides = pair(attrs.strides, 1);
  const dilations = pair(attrs.dilations, 1);
  const g = convGeometry(x.shape, filter.shape, strides, dilations, attrs.pad, attrs.dimRoundingMode, false);
  return nativeConv2D(backend, x, filter, g, strides, dilations) ?? callWasm('Conv2D', backend, { x, filter }, attrs);
}

export const conv2DConfig: KernelConfig = {
  kernelName: 'Conv2D',
  backendName: 'wasm',
  // the stock kernel (the fallback) caches XNNPACK operators set up here
  setupFunc: (backend) => stockKernels.get('Conv2D')?.setupFunc?.(backend),
  kernelFunc: conv2D as unknown as KernelConfig['kernelFunc'],
};
