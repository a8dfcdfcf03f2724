/**
 * Concat, SplitV and Transpose for the wasm backend as native block copies on the heap, for
 * tensors of 4-byte elements (float32, int32), when the addon is built. ShuffleNets split, concatenate
 * and shuffle channels in every unit; the stock wasm kernels copy them element by element in a
 * single thread (SplitV alone was a fifth of a ShuffleNetV2 step). Everything else (other dtypes,
 * empty tensors, transposes that are not a swap of two trailing blocks of axes) is stock.
 *   Concat / SplitV along axis a: every row (the axes before a) is a list of segments.
 *   Transpose with perm [0..p-1, k..r-1, p..k-1] (a swap of the axis blocks [p, k) and [k, r)):
 *   batched 2-D transposes; channelShuffle's [n, h, w, g, c/g] -> [n, h, w, c/g, g] is one.
 */
import { tf } from '../../tf.js';
import { nativeAddon } from '../../native/addon.js';
import { callWasm, floatOffset, stockKernels, wasmHeap, type KernelArgs, type KernelConfig, type TensorInfo } from './util.js';

const FOUR_BYTES = new Set(['float32', 'int32']);
const MAX_SEGMENTS = 64;

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

export function concat({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const xs = Object.values(inputs);
  const addon = nativeAddon();
  const axis = tf.util.parseAxisParam(attrs.axis as number, xs[0]!.shape)[0]!;
  const parts = xs.filter((t) => size(t.shape) > 0);
  if (addon === undefined || parts.length < 2 || parts.length > MAX_SEGMENTS || !FOUR_BYTES.has(parts[0]!.dtype) || parts.some((t) => t.dtype !== parts[0]!.dtype)) {
    return callWasm('Concat', backend, inputs, attrs);
  }
  tf.backend_util.assertParamsConsistent(xs.map((t) => t.shape), axis);
  const outShape = tf.backend_util.computeOutShape(xs.map((t) => t.shape), axis);
  const out = backend.makeOutput(outShape, parts[0]!.dtype);
  const rows = size(outShape.slice(0, axis));
  const rowWidth = size(outShape.slice(axis));
  const segments: number[] = [];
  let at = floatOffset(backend, out);
  for (const t of parts) {
    const width = size(t.shape.slice(axis));
    segments.push(floatOffset(backend, t), width, at, rowWidth, width);
    at += width;
  }
  addon.copySegments(wasmHeap(backend), rows, Int32Array.from(segments));
  return out;
}

export function splitV({ inputs, backend, attrs }: KernelArgs): TensorInfo[] {
  const { x } = inputs as { x: TensorInfo };
  const addon = nativeAddon();
  const axis = tf.util.parseAxisParam(attrs.axis as number, x.shape)[0]!;
  const sizes = tf.backend_util.prepareSplitSize(x as unknown as tf.Tensor, attrs.numOrSizeSplits as number | number[], axis);
  if (addon === undefined || !FOUR_BYTES.has(x.dtype) || size(x.shape) === 0 || sizes.length > MAX_SEGMENTS || sizes.some((s) => s === 0)) {
    const stock = stockKernels.get('SplitV')!;
    return stock.kernelFunc({ inputs, backend, attrs } as unknown as Parameters<tf.KernelFunc>[0]) as TensorInfo[];
  }
  const rows = size(x.shape.slice(0, axis));
  const inner = size(x.shape.slice(axis + 1));
  const outs = sizes.map((s) => backend.makeOutput(x.shape.map((d, i) => (i === axis ? s : d)), x.dtype));
  const segments: number[] = [];
  let at = floatOffset(backend, x);
  sizes.forEach((s, i) => {
    segments.push(at, x.shape[axis]! * inner, floatOffset(backend, outs[i]!), s * inner, s * inner);
    at += s * inner;
  });
  addon.copySegments(wasmHeap(backend), rows, Int32Array.from(segments));
  return outs;
}

/** For perm = [0..p-1, k..r-1, p..k-1]: [batch, rows, cols] = sizes of [0, p), [p, k), [k, r); else undefined. */
export function blockSwap(shape: number[], perm: number[]): [number, number, number] | undefined {
  const r = perm.length;
  let p = 0;
  while (p < r && perm[p] === p) p++;
  if (p >= r - 1) return undefined;
  const k = perm[p]!;
  for (let i = 0; i < r - k; i++) if (perm[p + i] !== k + i) return undefined;
  for (let i = 0; i < k - p; i++) if (perm[p + (r - k) + i] !== p + i) return undefined;
  return [size(shape.slice(0, p)), size(shape.slice(p, k)), size(shape.slice(k))];
}

export function transpose({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { x } = inputs as { x: TensorInfo };
  const addon = nativeAddon();
  const perm = attrs.perm as number[];
  const swap = FOUR_BYTES.has(x.dtype) && size(x.shape) > 0 ? blockSwap(x.shape, perm) : undefined;
  if (addon === undefined || swap === undefined) return callWasm('Transpose', backend, inputs, attrs);
  const out = backend.makeOutput(perm.map((i) => x.shape[i]!), x.dtype);
  addon.transposeLast2(wasmHeap(backend), Int32Array.of(floatOffset(backend, x), floatOffset(backend, out), ...swap));
  return out;
}

const config = (kernelName: string, kernelFunc: unknown): KernelConfig => ({
  kernelName,
  backendName: 'wasm',
  setupFunc: (backend) => stockKernels.get(kernelName)?.setupFunc?.(backend),
  kernelFunc: kernelFunc as KernelConfig['kernelFunc'],
});

export const concatConfig = config('Concat', concat);
export const splitVConfig = config('SplitV', splitV);
export const transposeConfig = config('Transpose', transpose);
