/**
 * UnsortedSegmentSum for the wasm backend, which lacks it (it is the gradient of Gather, used by
 * every method that indexes a memory bank): out[ids[i], ...] += x[i, ...], computed with a plain
 * loop over rows on the wasm heap. Ids outside [0, numSegments) are dropped, as in TensorFlow.
 */
import type { KernelArgs, KernelConfig, TensorInfo } from './util.js';

export function unsortedSegmentSum({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { x, segmentIds } = inputs as { x: TensorInfo; segmentIds: TensorInfo };
  const numSegments = attrs.numSegments as number;
  if (segmentIds.shape.length !== 1 || segmentIds.shape[0] !== x.shape[0]) {
    throw new Error(`engine wasm UnsortedSegmentSum: segmentIds must be 1-D of length ${x.shape[0]}, got [${segmentIds.shape}]`);
  }
  if (x.dtype !== 'float32' && x.dtype !== 'int32') throw new Error(`engine wasm UnsortedSegmentSum: unsupported dtype ${x.dtype}`);
  const rowLen = x.shape.slice(1).reduce((a, b) => a * b, 1);
  const out = backend.makeOutput([numSegments, ...x.shape.slice(1)], x.dtype);
  // views after makeOutput: allocating may grow (and detach) the wasm memory
  const src = backend.typedArrayFromHeap(x) as Float32Array | Int32Array;
  const ids = backend.typedArrayFromHeap(segmentIds) as Int32Array;
  const dst = backend.typedArrayFromHeap(out) as Float32Array | Int32Array;
  dst.fill(0);
  for (let i = 0; i < ids.length; i++) {
    const s = ids[i]!;
    if (s < 0 || s >= numSegments) continue;
    const o = s * rowLen;
    const r = i * rowLen;
    for (let k = 0; k < rowLen; k++) dst[o + k]! += src[r + k]!;
  }
  return out;
}

export const unsortedSegmentSumConfig: KernelConfig = {
  kernelName: 'UnsortedSegmentSum',
  backendName: 'wasm',
  kernelFunc: unsortedSegmentSum as unknown as KernelConfig['kernelFunc'],
};
