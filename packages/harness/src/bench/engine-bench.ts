/**
 * `kdbench bench engine`: training-step throughput of zoo students on each requested tfjs backend
 * and, when Debian's python3-torch is installed, of the same architectures in PyTorch on the same
 * machine, with the ratio. One step = forward in training mode, cross-entropy, gradients, SGD with
 * momentum and weight decay, on a random batch (the data pipeline is not timed; see
 * benchmarks/engine/throughput.ts for whole-trainer throughput). `--profile` adds the per-kernel
 * time shares of one step (tf.profile), the input to engine work. On wasm with the native addon
 * built, both kernel sets are timed: 'wasm' (WebAssembly kernels) and 'wasm+native'.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { Sgd, crossEntropy } from '@kdbench/core';
import { initEngine, nativeStatus, setNativeEnabled, tf, type BackendRequest } from '@kdbench/engine';
import { createModel, type Model } from '@kdbench/models';

export interface EngineBenchOptions {
  models: string[];
  backends: BackendRequest[];
  width: number;
  batch: number;
  steps: number;
  warmup: number;
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

/** Images per second of `steps` training steps after `warmup` steps, on the current backend. */
export function timeSteps(model: Model, o: Pick<EngineBenchOptions, 'batch' | 'steps' | 'warmup' | 'classes'>): number {
  const x = tf.randomNormal([o.batch, 32, 32, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
  const y = tf.tensor1d(Array.from({ length: o.batch }, (_, i) => i % o.classes), 'int32');
  const sgd = new Sgd({ momentum: 0.9, weightDecay: 5e-4 });
  try {
    for (let i = 0; i < o.warmup; i++) trainingStep(model, sgd, x, y);
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < o.steps; i++) trainingStep(model, sgd, x, y);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    return (o.batch * o.steps) / seconds;
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
  return [...by.entries()].map(([kernel, v]) => ({ kernel, ...v })).sort((a, b) => b.ms - a.ms);
}

export function torchAvailable(python: string): boolean {
  try {
    execFileSync(python, ['-c', 'import torch'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function runTorch(o: EngineBenchOptions): TorchRow[] {
  const out = execFileSync(o.python, [
    o.torchScript, '--models', o.models.join(','), '--width', String(o.width), '--batch', String(o.batch),
    '--steps', String(o.steps), '--warmup', String(o.warmup), '--threads', String(o.torchThreads), '--classes', String(o.classes),
  ], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as TorchRow);
}

export function defaultTorchScript(repoRoot: string): string {
  return join(repoRoot, 'benchmarks', 'engine', 'torch_step.py');
}

/** Runs the benchmark; prints progress to stderr and returns the markdown report. */
export async function engineBench(o: EngineBenchOptions, log: (l: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<string> {
  const rows: EngineBenchRow[] = [];
  const profiles: string[] = [];
  for (const backend of o.backends) {
    const engine = await initEngine({ backend });
    // on wasm with the native addon, time both its WebAssembly kernels and the native ones
    const variants = engine.backend === 'wasm' && nativeStatus().loaded ? [false, true] : [undefined];
    for (const native of variants) {
      if (native !== undefined) setNativeEnabled(native);
      const label = native ? `${engine.backend}+native` : engine.backend;
      for (const id of o.models) {
        log(`${label}: ${id} (width ${o.width}, batch ${o.batch}, ${o.steps} steps)`);
        const model = createModel(id, { numClasses: o.classes, seed: 0, widthFactor: o.width });
        rows.push({ model: id, params: model.paramCount(), backend: label, imagesPerSecond: timeSteps(model, o) });
        if (o.profile) {
          const kernels = await profileStep(model, o);
          const total = kernels.reduce((s, k) => s + k.ms, 0);
          profiles.push(`### ${id} on ${label}: one step, ${total.toFixed(0)} ms of kernel time\n\n| kernel | calls | ms | share |\n|---|---|---|---|\n${
            kernels.slice(0, 12).map((k) => `| ${k.kernel} | ${k.calls} | ${k.ms.toFixed(1)} | ${((100 * k.ms) / total).toFixed(1)}% |`).join('\n')}`);
        }
        model.dispose();
      }
    }
    setNativeEnabled(true);
  }
  let torch: TorchRow[] = [];
  if (o.torchThreads > 0) {
    if (!existsSync(o.torchScript)) log(`PyTorch: ${o.torchScript} not found; skipped`);
    else if (!torchAvailable(o.python)) log(`PyTorch: '${o.python} -c "import torch"' failed; install python3-torch (Debian) to compare; skipped`);
    else {
      log(`PyTorch (${o.torchThreads} threads): ${o.models.join(', ')}`);
      torch = runTorch(o);
    }
  }
  const cpu = os.cpus();
  const lines = [
    `Machine: ${cpu.length} x ${cpu[0]?.model ?? 'unknown CPU'}, node ${process.version}; ${nativeStatus().detail}; batch ${o.batch}, width x${o.width}, ${o.classes} classes; ${o.steps} timed steps after ${o.warmup} warm-up steps.`,
    '',
    `| model | params | backend | images/s |${torch.length ? ' PyTorch images/s | ratio to PyTorch |' : ''}`,
    `|---|---|---|---|${torch.length ? '---|---|' : ''}`,
  ];
  for (const r of rows) {
    const t = torch.find((x) => x.model === r.model && !x.error);
    const paramsNote = t && t.params !== r.params ? ` (PyTorch net has ${t.params})` : '';
    const torchCells = torch.length ? (t ? ` ${t.images_per_second.toFixed(1)} | ${(r.imagesPerSecond / t.images_per_second).toFixed(2)}x |` : ' n/a | n/a |') : '';
    lines.push(`| ${r.model} | ${r.params}${paramsNote} | ${r.backend} | ${r.imagesPerSecond.toFixed(1)} |${torchCells}`);
  }
  if (torch[0]) lines.push('', `PyTorch ${torch[0].torch}, ${torch[0].threads} threads.`);
  return [...lines, ...(profiles.length ? ['', ...profiles] : [])].join('\n');
}
