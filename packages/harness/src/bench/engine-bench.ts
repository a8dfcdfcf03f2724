/**
 * `kdbench bench engine`: training-step throughput of zoo students on each requested tfjs backend
 * and, when Debian's python3-torch is installed, of the same architectures in PyTorch on the same
 * machine, with the ratio. One step = forward in training mode, cross-entropy, gradients, SGD with
 * momentum and weight decay, on a random batch (the data pipeline is not timed; `kdbench bench
 * train` times whole epochs). On wasm with the native addon built, both kernel sets can be timed:
 * 'wasm' (WebAssembly kernels) and 'wasm+native'; the report lists which native kernels ran.
 * `--repeat N` interleaves N rounds of kdbench and PyTorch and reports medians (a loaded machine
 * moves both; the median of same-round ratios is the figure to quote). `--profile` adds the
 * per-kernel time shares of one step (tf.profile), the input to engine work.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { Sgd, crossEntropy } from '@kdbench/core';
import { initEngine, nativeCallCounts, nativeStatus, resetNativeCallCounts, setNativeEnabled, tf, type BackendRequest } from '@kdbench/engine';
import { createModel, type Model } from '@kdbench/models';
import { median } from '@kdbench/report';

/** Which kernel sets to time on wasm when the addon is loaded. */
export type KernelChoice = 'native' | 'wasm';

export interface EngineBenchOptions {
  models: string[];
  backends: BackendRequest[];
  /** On wasm with the addon: the kernel sets to time (default both). */
  kernels?: KernelChoice[];
  width: number;
  batch: number;
  steps: number;
  warmup: number;
  /** Rounds of (kdbench, PyTorch), interleaved; medians are reported (default 1). */
  repeat?: number;
  /** PyTorch threads (0: skip PyTorch). */
  torchThreads: number;
  python: string;
  torchScript: string;
  profile: boolean;
  classes: number;
}

export interface EngineBenchRow {
  model: string;
  params: number;
  backend: string;
  imagesPerSecond: number;
  /** Native kernel calls per step, by addon function (wasm+native rows). */
  nativeCalls?: Record<string, number>;
}

export interface TorchRow {
  model: string;
  params: number;
  images_per_second: number;
  threads: number;
  torch: string;
  error?: string;
}

function trainingStep(model: Model, sgd: Sgd, x: tf.Tensor4D, y: tf.Tensor1D): void {
  tf.tidy(() => {
    const vars = model.trainableVariables();
    const { value, grads } = tf.variableGrads(() => crossEntropy(model.forward(x, { training: true }).logits, y), vars);
    sgd.apply(0.05, vars, grads);
    value.dataSync(); // wait for the step, as the trainer does
  });
}

/** Images per second of `steps` training steps after `warmup` steps, on the current backend, and the native calls per step. */
export function timeSteps(model: Model, o: Pick<EngineBenchOptions, 'batch' | 'steps' | 'warmup' | 'classes'>): { imagesPerSecond: number; nativeCalls: Record<string, number> } {
  const x = tf.randomNormal([o.batch, 32, 32, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
  const y = tf.tensor1d(Array.from({ length: o.batch }, (_, i) => i % o.classes), 'int32');
  const sgd = new Sgd({ momentum: 0.9, weightDecay: 5e-4 });
  try {
    for (let i = 0; i < o.warmup; i++) trainingStep(model, sgd, x, y);
    resetNativeCallCounts();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < o.steps; i++) trainingStep(model, sgd, x, y);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const nativeCalls = Object.fromEntries(Object.entries(nativeCallCounts()).map(([k, n]) => [k, n / o.steps]));
    return { imagesPerSecond: (o.batch * o.steps) / seconds, nativeCalls };
  } finally {
    sgd.dispose();
    tf.dispose([x, y]);
  }
}

/** Per-kernel milliseconds of one training step (sorted, largest first). */
export async function profileStep(model: Model, o: Pick<EngineBenchOptions, 'batch' | 'classes'>): Promise<{ kernel: string; ms: number; calls: number }[]> {
  const x = tf.randomNormal([o.batch, 32, 32, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
  const y = tf.tensor1d(Array.from({ length: o.batch }, (_, i) => i % o.classes), 'int32');
  const sgd = new Sgd({ momentum: 0.9, weightDecay: 5e-4 });
  trainingStep(model, sgd, x, y); // warm-up
  const info = await tf.profile(() => trainingStep(model, sgd, x, y));
  const by = new Map<string, { ms: number; calls: number }>();
  for (const k of info.kernels) {
    const ms = Number(await (k.kernelTimeMs as unknown as Promise<number | { error: string }> | number)) || 0;
    const e = by.get(k.name) ?? { ms: 0, calls: 0 };
    by.set(k.name, { ms: e.ms + ms, calls: e.calls + 1 });
  }
  sgd.dispose();
  tf.dispose([x, y]);
  // 'unnamed scope' is a tf.customGrad wrapper: its time includes the kernels inside it
  return [...by.entries()].filter(([k]) => k !== 'unnamed scope').map(([kernel, v]) => ({ kernel, ...v })).sort((a, b) => b.ms - a.ms);
}

export function torchAvailable(python: string): boolean {
  try {
    execFileSync(python, ['-c', 'import torch'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * PyTorch's environment: OpenMP threads that sleep while they wait (unless the caller set a policy).
 * By default they spin, and on a machine whose cores other processes share that costs PyTorch up
 * to 6x (measured on resnet20 with two threads: 17-26 images/s spinning, 140 passive, 104-112 with
 * one thread), which would flatter kdbench.
 */
export function torchEnv(): NodeJS.ProcessEnv {
  return { ...process.env, OMP_WAIT_POLICY: process.env.OMP_WAIT_POLICY ?? 'PASSIVE' };
}

export function runTorch(o: EngineBenchOptions): TorchRow[] {
  const out = execFileSync(o.python, [
    o.torchScript, '--models', o.models.join(','), '--width', String(o.width), '--batch', String(o.batch),
    '--steps', String(o.steps), '--warmup', String(o.warmup), '--threads', String(o.torchThreads), '--classes', String(o.classes),
  ], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], env: torchEnv() });
  return out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as TorchRow);
}

export function defaultTorchScript(repoRoot: string): string {
  return join(repoRoot, 'benchmarks', 'engine', 'torch_step.py');
}

/** The kdbench rows of one round: every backend (and wasm kernel set) x model. */
async function kdbenchRound(o: EngineBenchOptions, log: (l: string) => void, profiles: string[] | undefined): Promise<EngineBenchRow[]> {
  const rows: EngineBenchRow[] = [];
  const kernels = o.kernels ?? ['wasm', 'native'];
  for (const backend of o.backends) {
    const engine = await initEngine({ backend });
    const variants = engine.backend === 'wasm' && nativeStatus().loaded ? kernels.map((k) => k === 'native') : [undefined];
    for (const native of variants) {
      if (native !== undefined) setNativeEnabled(native);
      const label = native ? `${engine.backend}+native` : engine.backend;
      for (const id of o.models) {
        log(`${label}: ${id} (width ${o.width}, batch ${o.batch}, ${o.steps} steps)`);
        const model = createModel(id, { numClasses: o.classes, seed: 0, widthFactor: o.width });
        const timed = timeSteps(model, o);
        rows.push({ model: id, params: model.paramCount(), backend: label, imagesPerSecond: timed.imagesPerSecond, ...(native ? { nativeCalls: timed.nativeCalls } : {}) });
        if (profiles) {
          const kernelTimes = await profileStep(model, o);
          const total = kernelTimes.reduce((s, k) => s + k.ms, 0);
          profiles.push(`### ${id} on ${label}: one step, ${total.toFixed(0)} ms of kernel time\n\n| kernel | calls | ms | share |\n|---|---|---|---|\n${
            kernelTimes.slice(0, 12).map((k) => `| ${k.kernel} | ${k.calls} | ${k.ms.toFixed(1)} | ${((100 * k.ms) / total).toFixed(1)}% |`).join('\n')}`);
        }
        model.dispose();
      }
    }
    setNativeEnabled(true);
  }
  return rows;
}

/** Runs the benchmark; prints progress to stderr and returns the markdown report. */
export async function engineBench(o: EngineBenchOptions, log: (l: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<string> {
  const repeat = o.repeat ?? 1;
  let torchReady = false;
  if (o.torchThreads > 0) {
    if (!existsSync(o.torchScript)) log(`PyTorch: ${o.torchScript} not found; skipped`);
    else if (!torchAvailable(o.python)) log(`PyTorch: '${o.python} -c "import torch"' failed; install python3-torch (Debian) to compare; skipped`);
    else torchReady = true;
  }
  const rounds: { rows: EngineBenchRow[]; torch: TorchRow[] }[] = [];
  const profiles: string[] = [];
  for (let r = 0; r < repeat; r++) {
    if (repeat > 1) log(`round ${r + 1} of ${repeat}`);
    const rows = await kdbenchRound(o, log, o.profile && r === 0 ? profiles : undefined);
    let torch: TorchRow[] = [];
    if (torchReady) {
      log(`PyTorch (${o.torchThreads} threads): ${o.models.join(', ')}`);
      torch = runTorch(o);
    }
    rounds.push({ rows, torch });
  }
  return report(o, rounds, profiles);
}

function report(o: EngineBenchOptions, rounds: { rows: EngineBenchRow[]; torch: TorchRow[] }[], profiles: string[]): string {
  const cpu = os.cpus();
  const withTorch = rounds.some((r) => r.torch.length > 0);
  const many = rounds.length > 1;
  const lines = [
    `Machine: ${cpu.length} x ${cpu[0]?.model ?? 'unknown CPU'}, node ${process.version}, load average ${os.loadavg()[0]!.toFixed(1)} at the end; ${nativeStatus().detail}; batch ${o.batch}, width x${o.width}, ${o.classes} classes; ${o.steps} timed steps after ${o.warmup} warm-up steps${many ? `; ${rounds.length} rounds of kdbench then PyTorch, medians` : ''}.`,
    '',
    `| model | params | kernels | images/s |${withTorch ? ` PyTorch images/s | ratio to PyTorch |${many ? ' ratio per round |' : ''}` : ''}`,
    `|---|---|---|---|${withTorch ? `---|---|${many ? '---|' : ''}` : ''}`,
  ];
  const torchNotes: string[] = [];
  for (const first of rounds[0]!.rows) {
    const mine = rounds.map((r) => r.rows.find((x) => x.model === first.model && x.backend === first.backend)!);
    const theirs = rounds.map((r) => r.torch.find((x) => x.model === first.model && !x.error));
    const rate = median(mine.map((m) => m.imagesPerSecond));
    let torchCells = '';
    if (withTorch) {
      const paired = mine.flatMap((m, i) => (theirs[i] ? [m.imagesPerSecond / theirs[i]!.images_per_second] : []));
      const torchRates = theirs.flatMap((t) => (t ? [t.images_per_second] : []));
      torchCells = paired.length === 0
        ? ` n/a | n/a |${many ? ' |' : ''}`
        : ` ${median(torchRates).toFixed(1)} | ${median(paired).toFixed(2)}x |${many ? ` ${paired.map((p) => `${p.toFixed(2)}x`).join(' / ')} |` : ''}`;
      const t = theirs.find(Boolean);
      if (t && t.params !== first.params) torchNotes.push(`${first.model}: the PyTorch net has ${t.params} parameters, kdbench's ${first.params}.`);
      const missing = rounds[0]!.torch.find((x) => x.model === first.model && x.error);
      if (missing && !torchNotes.some((n) => n.startsWith(`${first.model}:`))) torchNotes.push(`${first.model}: no PyTorch figure (${missing.error}).`);
    }
    lines.push(`| ${first.model} | ${first.params} | ${first.backend} | ${rate.toFixed(1)} |${torchCells}`);
  }
  const torchRow = rounds.flatMap((r) => r.torch).find((t) => !t.error);
  if (torchRow) lines.push('', `PyTorch ${torchRow.torch}, ${torchRow.threads} threads, OMP_WAIT_POLICY=${torchEnv().OMP_WAIT_POLICY} (benchmarks/engine/torch_step.py, the same architectures).`);
  if (torchNotes.length) lines.push('', ...[...new Set(torchNotes)]);
  lines.push('', ...kernelsRan(rounds[0]!.rows));
  return [...lines, ...(profiles.length ? ['', ...profiles] : [])].join('\n');
}

/** Which kernels each kernel set ran: the native functions called per step, or the WebAssembly kernels only. */
function kernelsRan(rows: EngineBenchRow[]): string[] {
  const out = ['Kernels:'];
  const sets = [...new Set(rows.map((r) => r.backend))];
  for (const set of sets) {
    if (set === 'wasm') {
      out.push(`- wasm: tfjs's WebAssembly kernels with kdbench's WebAssembly additions (no native code)${nativeStatus().loaded ? '' : `; ${nativeStatus().detail}`}.`);
    } else if (set === 'wasm+native') {
      const totals = new Map<string, number>();
      rows.filter((r) => r.backend === set).forEach((r) => Object.entries(r.nativeCalls ?? {}).forEach(([k, n]) => totals.set(k, (totals.get(k) ?? 0) + n)));
      const models = rows.filter((r) => r.backend === set).length;
      out.push(`- wasm+native: native kernels called per step (mean over the ${models} model(s)): ${[...totals.entries()].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${(n / models).toFixed(1)}`).join(', ') || 'none'}; everything else on tfjs's WebAssembly kernels.`);
    } else {
      out.push(`- ${set}: the ${set} backend's own kernels.`);
    }
  }
  return out;
}
