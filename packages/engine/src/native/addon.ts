/**
 * Loads kdbench's optional native kernel addon (packages/engine/native/src/*.c: convolutions,
 * fused batch norm, channel copies, SGD, pooling gradients, sums), built at `npm ci` when a C
 * compiler and OpenBLAS's headers are present (`apt-get install -y libopenblas-dev`). Absent or
 * disabled (KDBENCH_NATIVE=0), the wasm backend keeps its WebAssembly kernels: same numbers within
 * float rounding, slower; the first start without them says why and how to fix it (nativeNotice).
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
  /** Absent from addons built before it (a stale build keeps the JavaScript loop). */
  avgPoolGrad?(heap: ArrayBuffer, params: Int32Array, scale: number): void;
  sumRows(heap: ArrayBuffer, params: Int32Array): void;
  channelAffine(heap: ArrayBuffer, params: Int32Array, relu: boolean): void;
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
/** What build.mjs recorded beside the addon (kdnative.json); undefined when it never ran. */
interface Manifest {
  built: boolean;
  extensions?: string[];
  disabled?: boolean;
  reason?: string;
  fix?: string;
  noticeShown?: boolean;
}

function readManifest(file: string): Manifest | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Manifest;
  } catch {
    return undefined;
  }
}

const BUILD_SCRIPT = path.resolve(path.dirname(NATIVE_ADDON_FILE), '..', 'build.mjs');
const DEFAULT_FIX = `apt-get install -y build-essential libopenblas-dev && node ${BUILD_SCRIPT}`;
const manifestOf = (addonFile: string) => addonFile.replace(/\.node$/, '.json');

/** Extensions the addon needs that this CPU lacks (it was built on another machine), or [] when unknown. */
function missingExtensions(manifest: Manifest | undefined): string[] {
  const wanted = manifest?.extensions ?? [];
  if (wanted.length === 0) return [];
  try {
    const flags = new Set((/^flags\s*:(.*)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '').trim().split(/\s+/));
    return wanted.filter((e) => !flags.has(e));
  } catch {
    return [];
  }
}

let status: NativeStatus | undefined;
let enabled = true;
const calls = new Map<string, number>();

/** The addon with every function counting its calls (nativeCallCounts). */
function counting(addon: NativeConvAddon): NativeConvAddon {
  const wrapped: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(addon)) {
    wrapped[name] = typeof f !== 'function' ? f : (...args: unknown[]) => {
      calls.set(name, (calls.get(name) ?? 0) + 1);
      return (f as (...a: unknown[]) => unknown)(...args);
    };
  }
  return wrapped as unknown as NativeConvAddon;
}

/** Loads the addon at `file` (its manifest beside it); exported for tests of the failure paths. */
export function loadNativeAddon(file: string): NativeStatus {
  const env = process.env.KDBENCH_NATIVE;
  if (env === '0' || env === 'false') return { loaded: false, detail: 'native kernels disabled by KDBENCH_NATIVE=0' };
  const manifest = readManifest(manifestOf(file));
  if (!fs.existsSync(file)) {
    const why = manifest && !manifest.built ? manifest.reason : 'the build script has not run';
    return { loaded: false, detail: `native kernels not built (${why}); fix: ${manifest?.fix ?? DEFAULT_FIX}` };
  }
  const missing = missingExtensions(manifest);
  if (missing.length > 0) {
    return { loaded: false, detail: `native kernels built for ${missing.join('/')}, which this CPU lacks; fix: node ${BUILD_SCRIPT}` };
  }
  try {
    const addon = createRequire(import.meta.url)(file) as NativeConvAddon;
    const threads = Number(process.env.KDBENCH_NATIVE_THREADS ?? '');
    if (Number.isInteger(threads) && threads > 0) addon.setThreads(threads);
    const isa = manifest?.extensions?.length ? `, ${manifest.extensions.join('+').toUpperCase()}` : '';
    return {
      loaded: true, addon: counting(addon), file,
      detail: `native convolutions, batch norm, channel copies and SGD (${addon.config().split(' ').slice(0, 2).join(' ')} SGEMM${isa}, ${addon.getThreads()} thread(s))`,
    };
  } catch (err) {
    return { loaded: false, detail: `native kernels failed to load (${(err as Error).message.split('\n')[0]}); fix: node ${BUILD_SCRIPT}` };
  }
}

/**
 * The first time the wasm backend starts without the native kernels (not disabled on purpose):
 * a loud paragraph saying why and the one command that fixes it; undefined afterwards (the
 * manifest remembers it was shown) and whenever the kernels are loaded or deliberately off.
 */
export function nativeNotice(s: NativeStatus = nativeStatus(), addonFile = NATIVE_ADDON_FILE): string | undefined {
  if (s.loaded || s.detail.includes('KDBENCH_NATIVE=0')) return undefined;
  const file = manifestOf(addonFile);
  const manifest = readManifest(file) ?? { built: false };
  if (manifest.disabled || manifest.noticeShown) return undefined;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `${JSON.stringify({ ...manifest, noticeShown: true })}\n`);
  } catch { /* a read-only install: the notice may repeat */ }
  return `kdbench: ${s.detail}. CPU training runs on the WebAssembly kernels alone, about 5x slower. (Shown once.)`;
}

/** Calls of each native function since the last reset (which kernels ran natively, and how often). */
export function nativeCallCounts(): Record<string, number> {
  return Object.fromEntries(calls);
}

export function resetNativeCallCounts(): void {
  calls.clear();
}

/** The addon's load status (loaded once per process). */
export function nativeStatus(): NativeStatus {
  status ??= loadNativeAddon(NATIVE_ADDON_FILE);
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
