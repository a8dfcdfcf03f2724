/**
 * Shared helpers for the extra wasm kernels: calling the kernels the wasm backend already has
 * (by name, through the kernel registry), making reshaped views of TensorInfos, freeing
 * intermediates, and turning conv attributes into a per-axis geometry we can reason about.
 */
import { tf } from '../../tf.js';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

export type TensorInfo = tf.TensorInfo;
export type KernelConfig = tf.KernelConfig;
export type Attrs = Record<string, unknown>;
export type KernelArgs = { inputs: Record<string, TensorInfo>; backend: BackendWasm; attrs: Attrs };

/**
 * Stock wasm kernels we replaced, captured before replacement, so replacements can fall back to
 * them and call them as building blocks. Filled by registerWasmKernels().
 */
export const stockKernels = new Map<string, KernelConfig>();

/** Calls a wasm kernel: the stock one if we replaced it, otherwise the registered one. */
export function callWasm(name: string, backend: BackendWasm, inputs: Record<string, TensorInfo>, attrs: Attrs = {}): TensorInfo {
  const config = stockKernels.get(name) ?? tf.getKernel(name, 'wasm');
  if (config === undefined) throw new Error(`engine wasm kernels: the wasm backend has no '${name}' kernel to build on`);
  const out = config.kernelFunc({ inputs, backend, attrs } as unknown as Parameters<tf.KernelFunc>[0]);
  if (Array.isArray(out)) throw new Error(`engine wasm kernels: '${name}' returned several outputs, expected one`);
  return out;
}

/** The same data seen with another shape of equal size (no copy, no new reference: never free a view). */
export function view(t: TensorInfo, shape: number[]): TensorInfo {
  return { dataId: t.dataId, shape, dtype: t.dtype };
}

/** Releases intermediates produced by kernel calls (not views, not the kernel's inputs). */
export function free(backend: BackendWasm, ...infos: TensorInfo[]): void {
  for (const t of infos) backend.disposeData(t.dataId);
}

export function transpose(backend: BackendWasm, x: TensorInfo, perm: number[]): TensorInfo {
  return callWasm('Transpose', backend, { x }, { perm });
}

/** Crops a 4-D tensor to `size` starting at `begin`; returns the input itself when nothing is cut. */
export function crop4(backend: BackendWasm, x: TensorInfo, begin: number[], size: number[]): { out: TensorInfo; copied: boolean } {
  const same = begin.every((b) => b === 0) && size.every((s, i) => s === x.shape[i]);
  if (same) return { out: x, copied: false };
  return { out: callWasm('Slice', backend, { x }, { begin, size }), copied: true };
}

/**
 * Inserts (s-1) zeros after every row and column of an NHWC tensor: [N,H,W,C] -> [N,H*sh,W*sw,C].
 * The trailing zeros past the last real row/column are harmless for the convolutions that use it.
 */
export function zeroInsert(backend: BackendWasm, x: TensorInfo, sh: number, sw: number): TensorInfo {
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const padded = callWasm('PadV2', backend, { x: view(x, [n * h, 1, w, 1, c]) }, {
    paddings: [[0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]],
    constantValue: 0,
  });
  return view(padded, [n, h * sh, w * sw, c]);
}

/** Reads a scalar-or-pair attribute (strides, dilations) as a pair. */
export function pair(v: unknown, fallback: number): [number, number] {
  if (v == null) return [fallback, fallback];
  if (typeof v === 'number') return [v, v];
  const a = v as number[];
  return [a[0]!, a[1]!];
}

export function assertNHWC(kernel: string, dataFormat: unknown): void {
  if (dataFormat != null && dataFormat !== 'NHWC' && dataFormat !== 'channelsLast') {
    throw new Error(`engine wasm ${kernel}: only NHWC data is supported, got dataFormat '${String(dataFormat)}'`);
  }
}

/** Padding of a convolution resolved to numbers (TF convention: odd 'same' padding goes bottom/right). */
export type ConvGeometry = {
  top: number; bottom: number; left: number; right: number;
  outHeight: number; outWidth: number;
};

/** Resolves pad ('same' | 'valid' | number | explicit) for an NHWC conv of the given shapes. */
export function convGeometry(
  xShape: number[], filterShape: number[], strides: [number, number], dilations: [number, number],
  pad: unknown, dimRoundingMode: unknown, depthwise: boolean,
): ConvGeometry {
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides, dilations,
    pad as 'same' | 'valid' | number | tf.backend_util.ExplicitPadding,
    dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
    depthwise, 'channelsLast',
  );
  const p = info.padInfo;
  return { top: p.top, bottom: p.bottom, left: p.left, right: p.right, outHeight: info.outHeight, outWidth: info.outWidth };
}

/**
 * Along one spatial axis, the padding and crop for computing an input gradient as a stride-1
 * convolution of the zero-inserted output gradient (length outLen*stride) with the flipped filter.
 * Returns pads for that convolution and where to crop its output to get `inLen` values.
 */
export function inputGradAxis(inLen: number, outLen: number, k: number, stride: number, dilation: number, padBefore: number) {
  const span = (k - 1) * dilation;
  const before = span - padBefore;
  const padLo = Math.max(before, 0);
  const cropStart = Math.max(-before, 0);
  const zLen = outLen * stride;
  const padHi = Math.max(0, cropStart + inLen + span - zLen - padLo);
  return { padLo, padHi, cropStart };
}

/**
 * Along one spatial axis, the bottom padding for computing a filter gradient as a convolution of the
 * input with the output gradient as filter (dilation = stride, stride = dilation). Needs
 * (k-1)*dilation + (outLen-1)*stride + 1 <= inLen + padBefore + padHi.
 */
export function filterGradPadHi(inLen: number, outLen: number, k: number, stride: number, dilation: number, padBefore: number): number {
  return Math.max(0, (k - 1) * dilation + (outLen - 1) * stride + 1 - inLen - padBefore);
}

/** The wasm heap as an ArrayBuffer (read it after any allocation: growing the heap replaces it). */
export function wasmHeap(backend: BackendWasm): ArrayBuffer {
  return (backend.wasm as unknown as { HEAPU8: Uint8Array }).HEAPU8.buffer as ArrayBuffer;
}

/** Where a tensor's data starts in the wasm heap, in floats. */
export function floatOffset(backend: BackendWasm, t: TensorInfo): number {
  return backend.getMemoryOffset(t.dataId) / 4;
}
