/**
 * `kdbench bench train`: whole training epochs as a user runs them, through kdbench's own trainer
 * (the real data pipeline: seeded shuffling, random crops and flips, batching; the method's losses,
 * the teacher's forward pass for KD, SGD, and the evaluation pass after the epoch), beside
 * benchmarks/engine/torch_epoch.py doing the same epoch in PyTorch on the same files, interleaved
 * round by round. Each configuration runs in a fresh child process, so each reports its own peak
 * resident memory, and its resident memory after every epoch (a run must not grow across epochs).
 * Teachers have random weights: the time of a forward pass does not depend on them.
 *
 * Where an epoch's time goes (kdbench): 'teacher' is the teacher's forward passes; 'step' the rest
 * of the training steps (student forward, losses, gradients, SGD); 'eval' the evaluation pass;
 * 'data' the remainder, which is building the augmented batches.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { getProtocol, methodContext, resolveHyper, train, withOverrides } from '@kdbench/core';
import { loadCifar, makeRunSplits, type DatasetId } from '@kdbench/data';
import { Rng, initEngine, kernelSetName, type BackendRequest } from '@kdbench/engine';
import { createModel, type Model } from '@kdbench/models';
import { registry } from '../registry.js';
import { median } from '@kdbench/report';
import { torchEnv } from './engine-bench.js';

export interface TrainConfig {
  student: string;
  /** Teacher of the KD runs (random weights). */
  teacher: string;
  method: 'vanilla' | 'kd';
}

export interface TrainBenchOptions {
  configs: TrainConfig[];
  dataset: DatasetId;
  dataDir: string;
  /** Training images per class (undefined: every training record). */
  trainPerClass?: number;
  /** Evaluation images per class (undefined: the whole test file). */
  evalPerClass?: number;
  width: number;
  batch: number;
  epochs: number;
  repeat: number;
  backend: BackendRequest;
  /** PyTorch threads (0: skip PyTorch). */
  torchThreads: number;
  python: string;
  torchScript: string;
}

/** One configuration's epoch(s), from either side; seconds are totals over the epochs. */
export interface EpochTiming {
  side: 'kdbench' | 'pytorch';
  student: string;
  teacher: string;
  method: string;
  epochs: number;
  trainImages: number;
  evalImages: number;
  seconds: { total: number; data: number; step: number; teacher: number; eval: number };
  /** Training images per second over whole epochs (evaluation included). */
  imagesPerSecond: number;
  peakRssMb: number;
  /** Resident memory after each epoch. */
  rssAfterEpochMb: number[];
  kernels: string;
  error?: string;
}

/** A teacher whose forward passes are timed (everything else is the wrapped model's). */
function timedTeacher(model: Model, clock: { ms: number }): Model {
  return {
    id: model.id,
    options: model.options,
    forward: (x, opts) => {
      const t0 = performance.now();
      const out = model.forward(x, opts);
      out.logits.dataSync(); // the trainer reads the logits at once anyway; this keeps the attribution exact
      clock.ms += performance.now() - t0;
      return out;
    },
    trainableVariables: () => model.trainableVariables(),
    classifierVariables: () => model.classifierVariables(),
    namedVariables: () => model.namedVariables(),
    paramCount: () => model.paramCount(),
    flops: () => model.flops(),
    featureShapes: () => model.featureShapes(),
    dispose: () => model.dispose(),
  };
}

/** Runs one configuration in this process (the child side of `bench train`). */
export async function runEpochs(c: TrainConfig, o: Omit<TrainBenchOptions, 'configs' | 'repeat' | 'torchThreads' | 'python' | 'torchScript'>): Promise<EpochTiming> {
  const engine = await initEngine({ backend: o.backend });
  const data = await loadCifar(o.dataset, { dataDir: o.dataDir });
  const splits = makeRunSplits(data, { seed: 0, trainPerClass: o.trainPerClass, evalPerClass: o.evalPerClass, evalOn: 'test' });
  const protocol = withOverrides(getProtocol('paper'), { epochs: o.epochs, widthFactor: o.width, batchSize: o.batch });
  const def = registry.get(c.method);
  const student = createModel(c.student, { numClasses: data.numClasses, seed: 0, widthFactor: o.width });
  const clock = { ms: 0 };
  const teacher = def.teacher === 'required'
    ? timedTeacher(createModel(c.teacher, { numClasses: data.numClasses, seed: 1, widthFactor: o.width }), clock)
    : undefined;
  const instance = def.create(methodContext({
    hp: resolveHyper(def, {}), dataset: o.dataset, numClasses: data.numClasses, student, teacher, train: splits.train,
    epochs: o.epochs, batchSize: o.batch, rng: new Rng(0).fork(`method:${def.id}`),
  }));
  let lastStep = 0;
  let evalMs = 0;
  const rssAfterEpochMb: number[] = [];
  const t0 = performance.now();
  const result = train({
    dataset: o.dataset, splits, protocol, lr: protocol.lr, seed: 0, student, teacher, method: instance,
    onEvent: (e) => {
      if (e.type === 'step') lastStep = performance.now();
      if (e.type === 'epoch') {
        evalMs += performance.now() - lastStep;
        rssAfterEpochMb.push(process.memoryUsage().rss / 2 ** 20);
      }
    },
  });
  const totalMs = performance.now() - t0;
  const stepMs = result.trainSeconds * 1000;
  student.dispose();
  teacher?.dispose();
  return {
    side: 'kdbench', student: c.student, teacher: teacher ? c.teacher : '', method: c.method, epochs: o.epochs,
    trainImages: splits.train.n, evalImages: splits.evaluation.n,
    seconds: { total: totalMs / 1000, data: (totalMs - stepMs - evalMs) / 1000, step: (stepMs - clock.ms) / 1000, teacher: clock.ms / 1000, eval: evalMs / 1000 },
    imagesPerSecond: (splits.train.n * o.epochs) / (totalMs / 1000),
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    rssAfterEpochMb,
    kernels: kernelSetName(engine.backend),
  };
}

/** The child-process arguments of one configuration (`kdbench bench train --single ...`). */
function childArgs(c: TrainConfig, o: TrainBenchOptions): string[] {
  return [
    'bench', 'train', '--single', '--pairs', `${c.student}:${c.teacher}`, '--methods', c.method, '--dataset', o.dataset,
    '--data-dir', o.dataDir, '--width', String(o.width), '--batch', String(o.batch), '--epochs', String(o.epochs), '--backend', o.backend,
    ...(o.trainPerClass !== undefined ? ['--train-per-class', String(o.trainPerClass)] : []),
    ...(o.evalPerClass !== undefined ? ['--eval-per-class', String(o.evalPerClass)] : []),
  ];
}

function torchArgs(c: TrainConfig, o: TrainBenchOptions): string[] {
  return [
    o.torchScript, '--student', c.student, '--teacher', c.teacher, '--method', c.method, '--dataset', o.dataset, '--data-dir', o.dataDir,
    '--width', String(o.width), '--batch', String(o.batch), '--epochs', String(o.epochs), '--threads', String(o.torchThreads),
    ...(o.trainPerClass !== undefined ? ['--train-per-class', String(o.trainPerClass)] : []),
    ...(o.evalPerClass !== undefined ? ['--eval-per-class', String(o.evalPerClass)] : []),
  ];
}

function lastJson(out: string): EpochTiming {
  const line = out.trim().split('\n').filter((l) => l.startsWith('{')).at(-1);
  if (line === undefined) throw new Error(`no result line in:\n${out.slice(-2000)}`);
  return JSON.parse(line) as EpochTiming;
}

/** Runs the benchmark: rounds of (kdbench child, PyTorch child) per configuration; returns the markdown report. */
export function trainBench(o: TrainBenchOptions, kdbenchBin: string, log: (l: string) => void = (l) => process.stderr.write(`${l}\n`)): string {
  const torch = o.torchThreads > 0 && existsSync(o.torchScript);
  if (o.torchThreads > 0 && !torch) log(`PyTorch: ${o.torchScript} not found; skipped`);
  const results: EpochTiming[][] = o.configs.map(() => []);
  for (let r = 0; r < o.repeat; r++) {
    o.configs.forEach((c, i) => {
      const label = `${c.method} ${c.method === 'kd' ? `${c.teacher} -> ` : ''}${c.student}`;
      log(`round ${r + 1}/${o.repeat}: kdbench ${label}`);
      results[i]!.push(lastJson(execFileSync(process.execPath, [kdbenchBin, ...childArgs(c, o)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26 })));
      if (!torch) return;
      log(`round ${r + 1}/${o.repeat}: PyTorch ${label}`);
      try {
        results[i]!.push({ ...lastJson(execFileSync(o.python, torchArgs(c, o), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26, env: torchEnv() })), side: 'pytorch' });
      } catch (e) {
        log(`PyTorch failed: ${(e as Error).message.split('\n')[0]}`);
      }
    });
  }
  return report(o, results);
}

const mb = (v: number) => `${v.toFixed(0)} MB`;

function report(o: TrainBenchOptions, results: EpochTiming[][]): string {
  const cpu = os.cpus();
  const first = results.flat().find((t) => t.side === 'kdbench');
  const lines = [
    `Machine: ${cpu.length} x ${cpu[0]?.model ?? 'unknown CPU'}, node ${process.version}, load average ${os.loadavg()[0]!.toFixed(1)} at the end; kdbench kernels ${first?.kernels ?? '?'}; ${o.dataset}, ${first?.trainImages ?? '?'} training images (random crop + flip, batch ${o.batch}), evaluation on ${first?.evalImages ?? '?'} test images after each epoch; width x${o.width}; ${o.epochs} epoch(s) per run; ${o.repeat} round(s) of kdbench then PyTorch, medians.`,
    '',
    '| method | student (teacher) | kdbench images/s | PyTorch images/s | ratio | ratio per round | kdbench epoch: data / step / teacher / eval (s) | PyTorch epoch: data / step / teacher / eval (s) | peak memory kdbench / PyTorch |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  const growth: string[] = [];
  o.configs.forEach((c, i) => {
    const mine = results[i]!.filter((t) => t.side === 'kdbench');
    const theirs = results[i]!.filter((t) => t.side === 'pytorch');
    const ratios = theirs.length === mine.length ? mine.map((m, k) => m.imagesPerSecond / theirs[k]!.imagesPerSecond) : [];
    const parts = (ts: EpochTiming[]) => ts.length === 0 ? 'n/a' : (['data', 'step', 'teacher', 'eval'] as const)
      .map((k) => median(ts.map((t) => t.seconds[k] / t.epochs)).toFixed(1)).join(' / ');
    const rate = (ts: EpochTiming[]) => (ts.length ? median(ts.map((t) => t.imagesPerSecond)).toFixed(1) : 'n/a');
    lines.push(`| ${c.method} | ${c.student}${c.method === 'kd' ? ` (${c.teacher})` : ''} | ${rate(mine)} | ${rate(theirs)} | ${ratios.length ? `${median(ratios).toFixed(2)}x` : 'n/a'} | ${ratios.map((x) => `${x.toFixed(2)}x`).join(' / ')} | ${parts(mine)} | ${parts(theirs)} | ${mb(median(mine.map((t) => t.peakRssMb)))} / ${theirs.length ? mb(median(theirs.map((t) => t.peakRssMb))) : 'n/a'} |`);
    for (const t of mine) {
      if (t.rssAfterEpochMb.length > 1) growth.push(`${c.method} ${c.student}: ${t.rssAfterEpochMb.map(mb).join(' -> ')}`);
    }
  });
  lines.push('', `images/s counts training images over whole epochs, evaluation included. Peak memory is the peak resident set of the run's process. PyTorch: ${o.torchThreads} threads, OMP_WAIT_POLICY=${torchEnv().OMP_WAIT_POLICY}.`);
  if (growth.length) lines.push('', `Resident memory after each epoch (kdbench): ${growth.join('; ')}.`);
  return lines.join('\n');
}

export function defaultTorchEpochScript(repoRoot: string): string {
  return join(repoRoot, 'benchmarks', 'engine', 'torch_epoch.py');
}
