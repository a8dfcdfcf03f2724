/**
 * MaxPoolGrad for the wasm backend, replacing the stock kernel, which is slow (a quarter of a VGG
 * step) and wrong in tfjs 4.22: a window whose values are all negative passes no gradient at all.
 * The native addon's kernel when it is built, otherwise the same loop in JavaScript on the wasm
 * heap (non-float32 inputs keep the stock kernel). Gradients go to the first maximum of each window
 * in row-major order (NaN never wins), as the cpu backend does.
 */
import { tf } from '../../tf.js';
import { nativeAddon } from '../../native/addon.js';
import { callWasm, floatOffset, stockKernels, wasmHeap, type KernelArgs, type KernelConfig, type TensorInfo } from './util.js';

export function maxPoolGrad({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
  if (input.dtype !== 'float32') return callWasm('MaxPoolGrad', backend, inputs, attrs);
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number], attrs.filterSize as [number, number] | number,
    attrs.strides as [number, number] | number, 1, attrs.pad as 'same' | 'valid' | number,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
  );
  const dx = backend.makeOutput(input.shape, 'float32');
  const params = Int32Array.of(
    floatOffset(backend, input), floatOffset(backend, dy), floatOffset(backend, dx),
    info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.outHeight, info.outWidth,
    info.effectiveFilterHeight, info.effectiveFilterWidth, info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left,
  );
  const addon = nativeAddon();
  if (addon !== undefined) addon.maxPoolGrad(wasmHeap(backend), params);
  else maxPoolGradLoop(new Float32Array(wasmHeap(backend)), params);
  return dx;
}

/** The kernel's loop over heap floats (params as the native kernel's: offsets, then geometry). */
function maxPoolGradLoop(heap: Float32Array, p: Int32Array): void {
  const [xAt, dyAt, dxAt, n, h, w, c, oh, ow, kh, kw, sh, sw, pt, pl] = p as unknown as number[];
  heap.fill(0, dxAt!, dxAt! + n! * h! * w! * c!);
  const best = new Float32Array(c!);
  const where = new Int32Array(c!);
  for (let b = 0; b < n!; b++) {
    for (let i = 0; i < oh!; i++) {
      for (let j = 0; j < ow!; j++) {
        best.fill(-Infinity);
        where.fill(-1);
        for (let di = 0; di < kh!; di++) {
          const r = i * sh! - pt! + di;
          if (r < 0 || r >= h!) continue;
          for (let dj = 0; dj < kw!; dj++) {
            const q = j * sw! - pl! + dj;
            if (q < 0 || q >= w!) continue;
            const at = ((b * h! + r) * w! + q) * c!;
            for (let k = 0; k < c!; k++) {
              const v = heap[xAt! + at + k]!;
              if (v > best[k]!) {
                best[k] = v;
                where[k] = at + k;
              }
            }
          }
        }
        const g = dyAt! + ((b * oh! + i) * ow! + j) * c!;
        for (let k = 0; k < c!; k++) if (where[k]! >= 0) heap[dxAt! + where[k]!] += heap[g + k]!;
      }
    }
  }
}

export const maxPoolGradConfig: KernelConfig = {
  kernelName: 'MaxPoolGrad',
  backendName: 'wasm',
  setupFunc: (backend) => stockKernels.get('MaxPoolGrad')?.setupFunc?.(backend),
  kernelFunc: maxPoolGrad as unknown as KernelConfig['kernelFunc'],
};
