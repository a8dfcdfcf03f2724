/**
 * AvgPoolGrad for the wasm backend where the pooling windows tile the input without overlapping
 * (stride at least the window, no padding) and hold a power-of-two number of pixels: DenseNet's
 * 2x2 stride-2 transitions. The stock kernel takes about 7 times as long as the forward pooling
 * there (60-115 ms against 9 ms for a 64 x 32 x 32 x 80 input). Each input pixel then lies in at
 * most one window and receives dy / (window pixels), a product by a power of two, exact in float:
 * the same bits as the stock kernel (packages/engine/test/avg-pool-grad.test.ts). The native addon's
 * kernel when it is built, otherwise the same loop in JavaScript on the wasm heap; other geometries
 * and dtypes keep the stock kernel.
 */
import { tf } from '../../tf.js';
import { nativeAddon } from '../../native/addon.js';
import { callWasm, floatOffset, stockKernels, wasmHeap, type KernelArgs, type KernelConfig, type TensorInfo } from './util.js';

export function avgPoolGrad({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number], attrs.filterSize as [number, number] | number,
    attrs.strides as [number, number] | number, 1, attrs.pad as 'same' | 'valid' | number,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
  );
  const [kh, kw] = [info.filterHeight, info.filterWidth];
  const window = kh * kw;
  // every window inside the input (no padding on any side), none overlapping another
  const tiles = info.strideHeight >= kh && info.strideWidth >= kw && info.padInfo.top === 0 && info.padInfo.left === 0
    && (info.outHeight - 1) * info.strideHeight + kh <= info.inHeight && (info.outWidth - 1) * info.strideWidth + kw <= info.inWidth
    && info.dilationHeight === 1 && info.dilationWidth === 1;
  if (input.dtype !== 'float32' || !tiles || (window & (window - 1)) !== 0) return callWasm('AvgPoolGrad', backend, inputs, attrs);
  const dx = backend.makeOutput(input.shape, 'float32');
  const params = Int32Array.of(
    floatOffset(backend, dy), floatOffset(backend, dx), info.batchSize, info.inHeight, info.inWidth, info.inChannels,
    info.outHeight, info.outWidth, kh, kw, info.strideHeight, info.strideWidth,
  );
  const addon = nativeAddon();
  if (addon?.avgPoolGrad !== undefined) addon.avgPoolGrad(wasmHeap(backend), params, 1 / window);
  else avgPoolGradLoop(new Float32Array(wasmHeap(backend)), params, 1 / window);
  return dx;
}

/** The native kernel's loop over heap floats (params as its: offsets, then geometry). */
function avgPoolGradLoop(heap: Float32Array, p: Int32Array, scale: number): void {
  const [dyAt, dxAt, n, h, w, c, oh, ow, kh, kw, sh, sw] = p as unknown as number[];
  if (sh! > kh! || sw! > kw! || oh! * sh! < h! || ow! * sw! < w!) heap.fill(0, dxAt!, dxAt! + n! * h! * w! * c!); // pixels no window covers
  const share = new Float32Array(c!); // one window's dy * scale, copied to each of its pixels
  for (let b = 0; b < n!; b++) {
    for (let i = 0; i < oh!; i++) {
      for (let j = 0; j < ow!; j++) {
        const g = dyAt! + ((b * oh! + i) * ow! + j) * c!;
        for (let k = 0; k < c!; k++) share[k] = heap[g + k]! * scale;
        for (let di = 0; di < kh!; di++) {
          for (let dj = 0; dj < kw!; dj++) heap.set(share, dxAt! + ((b * h! + i * sh! + di) * w! + j * sw! + dj) * c!);
        }
      }
    }
  }
}

export const avgPoolGradConfig: KernelConfig = {
  kernelName: 'AvgPoolGrad',
  backendName: 'wasm',
  setupFunc: (backend) => stockKernels.get('AvgPoolGrad')?.setupFunc?.(backend),
  kernelFunc: avgPoolGrad as unknown as KernelConfig['kernelFunc'],
};
