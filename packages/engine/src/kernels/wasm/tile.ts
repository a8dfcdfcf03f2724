/**
 * Tile for the wasm backend, replacing the stock per-element index loop with block copies on the
 * wasm heap. The input is first written once into the output's "first tile" with each innermost
 * row repeated along the last axis; then, from the innermost axis outwards, each finished block
 * is replicated along its axis by doubling copyWithin calls.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { stockKernels, type KernelArgs, type KernelConfig, type TensorInfo } from './util.js';

type Heap = Float32Array | Int32Array | Uint8Array;

export function tile({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { x } = inputs as { x: TensorInfo };
  const reps = attrs.reps as number[];
  const stock = stockKernels.get('Tile');
  if (x.dtype === 'string' || x.shape.length === 0 || reps.length !== x.shape.length) {
    if (stock === undefined) throw new Error('engine wasm Tile: the stock wasm Tile kernel was not captured');
    return stock.kernelFunc({ inputs, backend, attrs } as unknown as Parameters<KernelConfig['kernelFunc']>[0]) as TensorInfo;
  }
  const inShape = x.shape;
  const outShape = inShape.map((d, i) => d * reps[i]!);
  const out = backend.makeOutput(outShape, x.dtype);
  if (outShape.some((d) => d === 0)) return out;
  // Views are taken after makeOutput: allocating may grow (and detach) the wasm memory.
  const src = backend.typedArrayFromHeap(x) as Heap;
  const dst = backend.typedArrayFromHeap(out) as Heap;
  tileInto(src, dst, inShape, outShape, reps);
  return out;
}

/** Writes `src` tiled by `reps` into `dst` (both row-major). Exported for tests of the index maths. */
export function tileInto(src: Heap, dst: Heap, inShape: number[], outShape: number[], reps: number[]): void {
  const rank = inShape.length;
  const outStrides = new Array<number>(rank);
  outStrides[rank - 1] = 1;
  for (let i = rank - 2; i >= 0; i--) outStrides[i] = outStrides[i + 1]! * outShape[i + 1]!;

  // Step 1: every input row (last axis) goes to its place in the first tile, repeated reps[-1] times.
  const rowLen = inShape[rank - 1]!;
  const rowReps = reps[rank - 1]!;
  const rows = src.length / rowLen;
  const idx = new Array<number>(rank - 1).fill(0);
  for (let r = 0; r < rows; r++) {
    let o = 0;
    for (let a = 0; a < rank - 1; a++) o += idx[a]! * outStrides[a]!;
    const row = src.subarray(r * rowLen, (r + 1) * rowLen);
    for (let k = 0; k < rowReps; k++) dst.set(row, o + k * rowLen);
    for (let a = rank - 2; a >= 0; a--) {
      if (++idx[a]! < inShape[a]!) break;
      idx[a] = 0;
    }
  }

  // Step 2: for each axis a from rank-2 down to 0, replicate the block [prefix, 0:inShape[a], ...]
  // (contiguous, length inShape[a]*outStrides[a]) reps[a] times along axis a.
  for (let a = rank - 2; a >= 0; a--) {
    if (reps[a] === 1) continue;
    const block = inShape[a]! * outStrides[a]!;
    const total = block * reps[a]!;
    const prefix = new Array<number>(a).fill(0);
    let count = 1;
    for (let b = 0; b < a; b++) count *= inShape[b]!;
    for (let p = 0; p < count; p++) {
      let base = 0;
      for (let b = 0; b < a; b++) base += prefix[b]! * outStrides[b]!;
      let filled = block;
      while (filled < total) {
        const n = Math.min(filled, total - filled);
        dst.copyWithin(base + filled, base, base + n);
        filled += n;
      }
      for (let b = a - 1; b >= 0; b--) {
        if (++prefix[b]! < inShape[b]!) break;
        prefix[b] = 0;
      }
    }
  }
}

export const tileConfig: KernelConfig = {
  kernelName: 'Tile',
  backendName: 'wasm',
  setupFunc: (backend) => stockKernels.get('Tile')?.setupFunc?.(backend as BackendWasm),
  kernelFunc: tile as unknown as KernelConfig['kernelFunc'],
};
