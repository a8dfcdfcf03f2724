/**
 * Backend resolver: picks the TensorFlow.js backend kdbench runs on and says why. 'auto' tries, in
 * order, @tensorflow/tfjs-node-gpu (only if it loads and TensorFlow sees a GPU), @tensorflow/tfjs-node,
 * the WebAssembly backend (with kdbench's extra wasm kernels registered) and finally the plain
 * JavaScript cpu backend. KDBENCH_BACKEND selects a backend when initEngine() is given none.
 */
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { getThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { registerWasmKernels } from './kernels/wasm/index.js';
import { nativeNotice, nativeStatus } from './native/addon.js';
import { tf } from './tf.js';

export const BACKEND_NAMES = ['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendRequest = (typeof BACKEND_NAMES)[number];

export type EngineAttempt = { backend: string; ok: boolean; detail: string };

export type EngineInfo = {
  /** tf.getBackend() after initialisation ('tensorflow', 'wasm' or 'cpu'). */
  backend: string;
  /** What was asked for ('auto' or a backend name). */
  requested: string;
  /** One sentence: why this backend. */
  reason: string;
  /** Every backend tried, in order. */
  attempts: EngineAttempt[];
  /** Threads the backend computes with. */
  threads: number;
  /** WebAssembly SIMD in use (wasm backend only). */
  simd?: boolean;
  /** The native addon's status (wasm backend only): its convolutions and batch norm, or why not. */
  native?: string;
};

export type InitEngineOptions = { backend?: BackendRequest };

type Concrete = Exclude<BackendRequest, 'auto'>;

/** How to make each backend available, quoted in errors. */
const ENABLE_HINT: Record<Concrete, string> = {
  'tensorflow-gpu':
    'npm install @tensorflow/tfjs-node-gpu; needs NVIDIA driver > 450, CUDA 11.2, cuDNN 8.1 on Linux/Windows x86-64 ' +
    '(its install downloads libtensorflow; TFJS_NODE_CDN_STORAGE or TFJS_NODE_BASE_URI select a mirror)',
  tensorflow:
    'npm install @tensorflow/tfjs-node (its install downloads libtensorflow 2.9.1; TFJS_NODE_CDN_STORAGE or ' +
    'TFJS_NODE_BASE_URI select a mirror)',
  wasm: 'npm install @tensorflow/tfjs-backend-wasm@4.22.0 and check that its dist/*.wasm files exist',
  cpu: 'reinstall @tensorflow/tfjs, which ships the cpu backend',
};

const NODE_PACKAGE = { 'tensorflow-gpu': '@tensorflow/tfjs-node-gpu', tensorflow: '@tensorflow/tfjs-node' } as const;

const require = createRequire(import.meta.url);
let current: EngineInfo | undefined;
let pending: { requested: string; promise: Promise<EngineInfo> } | undefined;
let wasmPathsSet = false;

/** The EngineInfo of the last successful initEngine(), if any. */
export function engineInfo(): EngineInfo | undefined {
  return current;
}

/**
 * Initialises the backend (explicit `opts.backend`, else KDBENCH_BACKEND, else 'auto'). Calling
 * again with the same request returns the same EngineInfo. An explicitly requested backend that
 * cannot be used throws, saying why and how to enable it.
 */
export async function initEngine(opts: InitEngineOptions = {}): Promise<EngineInfo> {
  const fromEnv = opts.backend === undefined && process.env.KDBENCH_BACKEND !== undefined && process.env.KDBENCH_BACKEND !== '';
  const raw = String(opts.backend ?? (fromEnv ? process.env.KDBENCH_BACKEND : 'auto')).trim().toLowerCase();
  if (!(BACKEND_NAMES as readonly string[]).includes(raw)) {
    const where = fromEnv ? ' (from KDBENCH_BACKEND)' : '';
    throw new Error(`initEngine: unknown backend '${raw}'${where}; valid names are ${BACKEND_NAMES.join(', ')}`);
  }
  const requested = raw as BackendRequest;
  if (current !== undefined && current.requested === requested && tf.engine().backendName === current.backend) return current;
  if (pending !== undefined && pending.requested === requested) return pending.promise;
  const promise = resolve(requested, fromEnv ? `KDBENCH_BACKEND=${requested}` : 'initEngine({ backend })');
  pending = { requested, promise };
  try {
    current = await promise;
    return current;
  } finally {
    if (pending?.promise === promise) pending = undefined;
  }
}

async function resolve(requested: BackendRequest, source: string): Promise<EngineInfo> {
  const attempts: EngineAttempt[] = [];
  const order: Concrete[] = requested === 'auto' ? ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] : [requested];
  for (const candidate of order) {
    const attempt = await tryBackend(candidate);
    attempts.push({ backend: candidate, ok: attempt.ok, detail: attempt.detail });
    if (!attempt.ok) continue;
    await tf.ready();
    const backend = tf.getBackend();
    const info: EngineInfo = { backend, requested, reason: '', attempts, threads: attempt.threads ?? 1 };
    if (attempt.simd !== undefined) info.simd = attempt.simd;
    if (backend === 'wasm') {
      info.native = nativeStatus().detail;
      const notice = nativeNotice();
      if (notice !== undefined) process.stderr.write(`${notice}\n`);
    }
    const what = describe(candidate, info);
    if (requested === 'auto') {
      const failed = attempts.filter((a) => !a.ok).map((a) => a.detail);
      info.reason = failed.length === 0
        ? `Using ${what}, the first choice for 'auto'.`
        : `Using ${what} because ${joinAnd(failed)}.`;
    } else {
      info.reason = `Using ${what} because it was requested explicitly (${source}).`;
    }
    return info;
  }
  const last = attempts[attempts.length - 1]!;
  if (requested !== 'auto') {
    throw new Error(`initEngine: backend '${requested}' is not available: ${last.detail}. To enable it: ${ENABLE_HINT[requested]}.`);
  }
  throw new Error(`initEngine: no backend could be initialised: ${attempts.map((a) => `${a.backend}: ${a.detail}`).join('; ')}`);
}

type Outcome = { ok: boolean; detail: string; threads?: number; simd?: boolean };

async function tryBackend(name: Concrete): Promise<Outcome> {
  try {
    switch (name) {
      case 'tensorflow-gpu':
        return await tryNode('tensorflow-gpu');
      case 'tensorflow':
        return await tryNode('tensorflow');
      case 'wasm':
        return await tryWasm();
      case 'cpu':
        if (!(await tf.setBackend('cpu'))) return { ok: false, detail: 'the cpu backend failed to initialise' };
        // its first tensor would print tfjs's advert for tfjs-node to stderr: kdbench chooses the
        // backend itself (initEngine says which and why), and counting commands use this one on purpose
        (tf.backend() as { firstUse?: boolean }).firstUse = false;
        return { ok: true, detail: 'the JavaScript cpu backend initialised', threads: 1 };
    }
  } catch (err) {
    return { ok: false, detail: `${name} failed: ${(err as Error).message}` };
  }
}

function isInstalled(pkg: string): boolean {
  try {
    require.resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

async function tryNode(kind: 'tensorflow-gpu' | 'tensorflow'): Promise<Outcome> {
  const pkg = NODE_PACKAGE[kind];
  const threads = os.availableParallelism?.() ?? os.cpus().length;
  // If tfjs-node-gpu loaded but found no GPU, its 'tensorflow' backend is still a working CPU one.
  if (kind === 'tensorflow' && !isInstalled(pkg) && tf.findBackendFactory('tensorflow') != null) {
    const ok = await tf.setBackend('tensorflow');
    return ok
      ? { ok: true, detail: `using the CPU libtensorflow of ${NODE_PACKAGE['tensorflow-gpu']}`, threads }
      : { ok: false, detail: `${pkg} is not installed` };
  }
  if (!isInstalled(pkg)) return { ok: false, detail: `${pkg} is not installed` };
  try {
    const spec: string = pkg;
    await import(spec);
  } catch (err) {
    return { ok: false, detail: `${pkg} is installed but failed to load (${(err as Error).message.split('\n')[0]})` };
  }
  if (tf.findBackendFactory('tensorflow') == null) {
    return { ok: false, detail: `${pkg} loaded but registered no 'tensorflow' backend with this copy of @tensorflow/tfjs (version mismatch?)` };
  }
  if (!(await tf.setBackend('tensorflow'))) return { ok: false, detail: `${pkg} loaded but its backend failed to initialise` };
  if (kind === 'tensorflow-gpu') {
    const binding = (tf.backend() as unknown as { binding?: { isUsingGpuDevice?: () => boolean } }).binding;
    if (typeof binding?.isUsingGpuDevice === 'function' && !binding.isUsingGpuDevice()) {
      return { ok: false, detail: `${pkg} loaded but TensorFlow found no usable GPU (CUDA 11.2 / cuDNN 8.1 not loaded)` };
    }
  }
  return { ok: true, detail: `${pkg} loaded`, threads };
}

async function tryWasm(): Promise<Outcome> {
  if (!wasmPathsSet) {
    // The folder holding the .wasm binaries; no usePlatformFetch (it breaks file paths in Node).
    const dir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + path.sep;
    setWasmPaths(dir);
    wasmPathsSet = true;
  }
  registerWasmKernels();
  if (!(await tf.setBackend('wasm'))) {
    return { ok: false, detail: 'the WebAssembly backend failed to initialise (see the tfjs warning above)' };
  }
  const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  return { ok: true, detail: `WebAssembly backend initialised (${simd ? 'SIMD' : 'no SIMD'}, ${getThreadsCount()} thread(s))`, threads: getThreadsCount(), simd };
}

function describe(candidate: Concrete, info: EngineInfo): string {
  switch (candidate) {
    case 'tensorflow-gpu':
      return `tfjs-node-gpu (TensorFlow on the GPU, backend '${info.backend}')`;
    case 'tensorflow':
      return `tfjs-node (native TensorFlow on the CPU, ${info.threads} threads, backend '${info.backend}')`;
    case 'wasm':
      return `the WebAssembly backend (${info.simd ? 'SIMD' : 'no SIMD'}, ${info.threads} thread${info.threads === 1 ? '' : 's'}; ${info.native ?? nativeStatus().detail})`;
    case 'cpu':
      return `the plain JavaScript cpu backend (slow: about 100x slower than wasm for training)`;
  }
}

function joinAnd(parts: string[]): string {
  if (parts.length <= 1) return parts.join('');
  return `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
}
