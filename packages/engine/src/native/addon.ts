/**
 * Loads kdbench's optional native kernel addon (packages/engine/native/src/*.c: convolutions on
 * OpenBLAS SGEMM, fused training batch norm, pooling gradient, sums), built at `npm ci` when a C
 * compiler and OpenBLAS's headers are present (`apt-get install -y libopenblas-dev`). Absent or
 * disabled (KDBENCH_NATIVE=0), the wasm backend keeps its WebAssembly kernels: same numbers within
 * float rounding, slower.
 */
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The addon's functions (see native/src/addon.c for the parameter layouts). */
export interface NativeConvAddon {
  conv2d(heap: ArrayBuffer, params: Int32Array): void;
  conv2dBackpropInput(heap: ArrayBuffer, params: Int32Array): void;
  conv2dBackpropFilter(heap: ArrayBuffer, params: Int32Array): void;
  depthwiseConv2d(heap: ArrayBuffer, params: Int32Array): void;
  depthwiseConv2dBackpropInput(heap: ArrayBuffer, params: Int32Array): void;
  depthwiseConv2dBackpropFilter(heap: ArrayBuffer, params: Int32Array): void;
  batchNormForward(heap: ArrayBuffer, params: Int32Array, eps: number, relu: boolean): void;
  batchNormBackward(heap: ArrayBuffer, params: Int32Array): void;
  maxPoolGrad(heap: ArrayBuffer, params: Int32Array): void;
  sumRows(heap: ArrayBuffer, params: Int32Array): void;
  copySegments(heap: ArrayBuffer, rows: number, segments: Int32Array): void;
  transposeLast2(heap: ArrayBuffer, params: Int32Array): void;
  sgdMomentum(heap: ArrayBuffer, params: Int32Array, lr: number, momentum: number, weightDecay: number): void;
  setThreads(threads: number): void;
  getThreads(): number;
  config(): string;
}

export type NativeStatus =
  | { loaded: true; addon: NativeConvAddon; file: string; detail: string }
  | { loaded: false; detail: string };

/** Where `npm ci` (native/build.mjs) puts the compiled addon. */
export const NATIVE_ADDON_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../native/build/kdnative.node');
/** Beside it: the CPU extensions it was compiled for ({"extensions": ["avx2", "fma"]}). */
const MANIFEST_FILE = NATIVE_ADDON_FILE.replace(/\.node$/, '.json');

/** Extensions the addon needs that this CPU lacks (it was built on another machine), or [] when unknown. */
function missingExtensions(): string[] {
  try {
    const wanted = (JSON.parse(fs.readFileSync(MANIFEST_FILE, 'utf8')) as { extensions?: string[] }).extensions ?? [];
    if (wanted.length === 0) return [];
    const flags = new Set((/^flags\s*:(.*)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '').trim().split(/\s+/));
    return wanted.filter((e) => !flags.has(e));
  } catch {
    return [];
  }
}

let status: NativeStatus | undefined;
let enabled = true;

function load(): NativeStatus {
  const env = process.env.KDBENCH_NATIVE;
  if (env === '0' || env === 'false') return { loaded: false, detail: 'native kernels disabled by KDBENCH_NATIVE=0' };
  if (!fs.existsSync(NATIVE_ADDON_FILE)) {
    return { loaded: false, detail: 'native kernels not built (needs a C compiler and libopenblas-dev at npm ci; see packages/engine/native/build.mjs)' };
  }
  const missing = missingExtensions();
  if (missing.length > 0) {
    return { loaded: false, detail: `native kernels built for ${missing.join('/')}, which this CPU lacks (rebuild here: node packages/engine/native/build.mjs)` };
  }
  try {
    const addon = createRequire(import.meta.url)(NATIVE_ADDON_FILE) as NativeConvAddon;
    const threads = Number(process.env.KDBENCH_NATIVE_THREADS ?? '');
    if (Number.isInteger(threads) && threads > 0) addon.setThreads(threads);
    return { loaded: true, addon, file: NATIVE_ADDON_FILE, detail: `native convolutions and batch norm (${addon.config().split(' ').slice(0, 2).join(' ')} SGEMM, ${addon.getThreads()} thread(s))` };
  } catch (err) {
    return { loaded: false, detail: `native kernels failed to load (${(err as Error).message.split('\n')[0]})` };
  }
}

/** The addon's load status (loaded once per process). */
export function nativeStatus(): NativeStatus {
  status ??= load();
  return status;
}

/** The addon if it is loaded and enabled, else undefined. */
export function nativeAddon(): NativeConvAddon | undefined {
  if (!enabled) return undefined;
  const s = nativeStatus();
  return s.loaded ? s.addon : undefined;
}

/** Turns the native kernels off or on within this process (for A/B benchmarks and tests). */
export function setNativeEnabled(on: boolean): void {
  enabled = on;
}

/**
 * The kernel set computing right now, as results record it: the backend name, with '+native' on
 * wasm when the addon's kernels are in use (their float rounding differs from the WebAssembly ones).
 */
export function kernelSetName(backend: string): string {
  return backend === 'wasm' && nativeAddon() !== undefined ? 'wasm+native' : backend;
}
