/**
 * The one training loop every method runs through: stages (a method's own stages, then the main
 * stage), epochs of seeded batches (or a data-free method's synthetic batches), one step per batch
 * (step.ts: players, then the stage's SGD update), per-term loss logging, evaluation after each
 * epoch, best/last accuracy, and a checkpoint after each epoch from which an interrupted run
 * resumes exactly. After the last epoch the method's parts report their metrics and artifacts.
 */
import { Rng, tf } from '@kdbench/engine';
import { batchCount, batches, rowsBatch, subsetSplit, type Batch, type DatasetId, type RawSplit, type RunSplits } from '@kdbench/data';
import type { Model } from '@kdbench/models';
import type { Accuracy, Companion, LossTerms, MethodInstance, OptimizerSpec, StepIO, TrainingStage } from '../method.js';
import type { Protocol } from '../protocols.js';
import { changesWithinEpoch, scheduledRate } from '../optim/schedule.js';
import { Sgd } from '../optim/sgd.js';
import { Adam } from '../optim/adam.js';
import type { Optimizer } from '../optim/optimizer.js';
import { evaluate, stageTools } from './evaluate.js';
import { loadCheckpoint, saveCheckpoint, type CheckpointState, type OptimizerSlots } from './checkpoint.js';
import { VariableNames } from './variable-names.js';
import type { DataAccess } from './step-io.js';
import { EpochLogits, type TeacherLogitsCache } from './epoch-logits.js';
import { PartSet } from './parts.js';
import { trainStep, type StepBatch, type StepSetup } from './step.js';

export interface EpochRecord {
  stage: string;
  epoch: number;
  lr: number;
  /** Mean of each loss term over the epoch's steps (plus `total`). */
  losses: Record<string, number>;
  /** The student's accuracy (main stage) or the stage's `evaluate` network's. */
  eval?: Accuracy;
  seconds: number;
}

export type TrainEvent =
  | { type: 'resume'; stage: string; epoch: number }
  | { type: 'step'; stage: string; epoch: number; epochs: number; step: number; steps: number }
  | { type: 'epoch'; record: EpochRecord; epochs: number; doneSteps: number; totalSteps: number; elapsed: number };

export interface TrainSpec {
  dataset: DatasetId;
  splits: RunSplits;
  protocol: Protocol;
  /** Base learning rate of the main stage (see studentLearningRate). */
  lr: number;
  seed: number;
  student: Model;
  teacher?: Model;
  /** Extra teachers (multi-teacher methods), served lazily as io.teachers. */
  teachers?: readonly Model[];
  method: MethodInstance;
  /** What the method may read of the training split (its definition's `data`; default 'labeled'). */
  data?: DataAccess;
  /** Checkpoint file: written after every epoch, read at start to resume. */
  checkpointFile?: string;
  /** Folder for the method's artifacts (written after training; none without it). */
  artifactsDir?: string;
  /**
   * Teacher-output cache, for methods that read only the teacher's logits: an epoch whose logits
   * are stored is trained without running the teacher; otherwise the logits are collected and stored.
   */
  teacherLogits?: TeacherLogitsCache;
  /** The same for each extra teacher (same order as `teachers`; undefined: not cached). */
  teachersLogits?: readonly (TeacherLogitsCache | undefined)[];
  onEvent?: (e: TrainEvent) => void;
}

export interface TrainResult {
  best: Accuracy & { epoch: number };
  last: Accuracy;
  history: EpochRecord[];
  /** Seconds of training steps only (no evaluation, no checkpoints), summed over resumes. */
  trainSeconds: number;
  wallSeconds: number;
  imagesPerSecond: number;
  /** Set when the run resumed from a checkpoint: how many epochs (over all stages) were already done. */
  resumedFromEpoch?: number;
  /** The parts' metrics (peers, generations, model size, per-task accuracies). */
  metrics: Record<string, number>;
  /** Files the parts wrote into `artifactsDir`, relative to it. */
  artifacts: string[];
}

export class NonFiniteLossError extends Error {}

export type { TeacherLogitsCache } from './epoch-logits.js';

export function makeOptimizer(spec: OptimizerSpec): Optimizer {
  if (spec.kind === 'sgd') return new Sgd({ momentum: spec.momentum, weightDecay: spec.weightDecay });
  if (spec.kind === 'adam') return new Adam({ beta1: spec.beta1, beta2: spec.beta2, weightDecay: spec.weightDecay });
  throw new Error(`unknown optimiser kind '${(spec as { kind: string }).kind}'`);
}

/** The method's stages, then the main stage (the method's losses; its `main` rows and end hook). */
function stagesOf(spec: TrainSpec, parts: PartSet): TrainingStage[] {
  const main = spec.method.procedure?.main;
  const mainStage: TrainingStage = {
    name: 'main', epochs: spec.protocol.epochs, schedule: main?.schedule ?? true,
    variables: () => parts.mainVariables(),
    losses: (io) => spec.method.losses(io),
    ...(main?.rows ? { rows: () => main.rows!() } : {}),
    ...(main?.onEnd ? { onEnd: main.onEnd.bind(main) } : {}),
    ...(main?.gradientCap ? { gradientCap: main.gradientCap } : {}),
  };
  return [...(spec.method.procedure?.stages ?? []), mainStage];
}

function checkPlayers(parts: PartSet): void {
  for (const p of parts.players) {
    if (p.every !== undefined && !(Number.isInteger(p.every) && p.every >= 1)) throw new Error(`player '${p.name}': every must be a positive integer, got ${p.every}`);
  }
}

/** The student's SGD (fresh for every stage) and each player's optimiser, with their checkpoint prefixes. */
class RunOptimizers {
  sgd: Sgd;
  readonly players: Optimizer[];

  constructor(private readonly protocol: Protocol, parts: PartSet) {
    this.sgd = this.newSgd();
    this.players = parts.players.map((p) => makeOptimizer(p.optimizer));
  }

  private newSgd(): Sgd {
    return new Sgd({ momentum: this.protocol.momentum, weightDecay: this.protocol.weightDecay });
  }

  slots(parts: PartSet): OptimizerSlots {
    return { 'momentum/': this.sgd, ...Object.fromEntries(parts.players.map((p, i) => [`opt/${p.name}/`, this.players[i]!])) };
  }

  /** A new stage is a separate optimisation in the papers: fresh momentum. */
  resetSgd(): void {
    this.sgd.dispose();
    this.sgd = this.newSgd();
  }

  dispose(): void {
    this.sgd.dispose();
    this.players.forEach((o) => o.dispose());
  }
}

/** Everything an epoch needs that does not change between epochs. */
interface Run {
  spec: TrainSpec;
  parts: PartSet;
  stages: TrainingStage[];
  data: DataAccess;
  optimizers: RunOptimizers;
  names: VariableNames;
  steps: (n: number) => number;
}

export function train(spec: TrainSpec): TrainResult {
  const parts = new PartSet(spec.method, spec.student);
  const data: DataAccess = spec.data ?? 'labeled';
  if (data === 'none' && !spec.method.procedure?.syntheticBatch) throw new Error("a method declaring data: 'none' must provide syntheticBatch");
  checkPlayers(parts);
  const dropLast = spec.protocol.dropLast ?? false;
  const run: Run = {
    spec, parts, data, stages: stagesOf(spec, parts), optimizers: new RunOptimizers(spec.protocol, parts), names: new VariableNames(parts),
    steps: (n) => batchCount(n, { batchSize: spec.protocol.batchSize, dropLast }),
  };
  try {
    const { state, resumedFromEpoch } = resume(run);
    // durations on the monotonic clock: the wall clock (Date.now) can be stepped while a run trains
    const started = performance.now();
    for (let si = state.stage; si < run.stages.length; si++) {
      const firstEpoch = si === state.stage ? state.epoch : 0;
      trainStage(run, si, firstEpoch, state, started);
    }
    return finish(run, state, resumedFromEpoch);
  } finally {
    run.optimizers.dispose();
  }
}

/** The loop state at the start: fresh, or restored from the checkpoint (variables and optimiser slots in place). */
function resume(run: Run): { state: CheckpointState; resumedFromEpoch?: number } {
  const fresh: CheckpointState = { stage: 0, epoch: 0, history: [], best: null, trainSeconds: 0, wallSeconds: 0 };
  if (!run.spec.checkpointFile) return { state: fresh };
  const restored = loadCheckpoint(run.spec.checkpointFile, run.names, run.optimizers.slots(run.parts), run.stages);
  if (!restored) return { state: fresh };
  // epochs already done, over all stages (a run killed after its last epoch resumes from all of them)
  const resumedFromEpoch = run.stages.slice(0, restored.stage).reduce((n, st) => n + st.epochs, 0) + restored.epoch;
  run.spec.onEvent?.({ type: 'resume', stage: run.stages[restored.stage]?.name ?? 'main', epoch: restored.epoch });
  return { state: restored, resumedFromEpoch };
}

/** Steps over all stages (an estimate when stages train on subsets). */
function totalSteps(run: Run): number {
  const full = run.steps(run.spec.splits.train.n);
  return run.stages.reduce((n, s) => n + s.epochs * full, 0);
}

/** Trains stage `si` from epoch `first`, updating `state` (and the checkpoint) after every epoch. */
function trainStage(run: Run, si: number, first: number, state: CheckpointState, started: number): void {
  const stage = run.stages[si]!;
  const { splits } = run.spec;
  const split = stage.rows ? subsetSplit(splits.train, stage.rows()) : splits.train;
  if (split.n === 0) throw new Error(`stage '${stage.name}' has no training rows`);
  const vars = stage.variables();
  for (let epoch = first; epoch < stage.epochs; epoch++) {
    const epochStart = performance.now();
    const { record, trainMs } = trainEpoch(run, si, split, vars, epoch);
    const isMain = si === run.stages.length - 1;
    if (isMain) {
      record.eval = evaluate(run.parts.evaluated, splits.evaluation, run.spec.dataset);
      if (!state.best || record.eval.top1 > state.best.top1) state.best = { ...record.eval, epoch: epoch + 1 };
    } else if (stage.evaluate) {
      record.eval = evaluate(stage.evaluate, splits.evaluation, run.spec.dataset);
    }
    // before the checkpoint: a crash inside onEnd repeats the epoch
    if (epoch + 1 === stage.epochs) stage.onEnd?.(stageTools({ train: splits.train, evaluation: splits.evaluation, dataset: run.spec.dataset }));
    record.seconds = (performance.now() - epochStart) / 1000;
    advance(run, state, si, epoch, record, trainMs / 1000, record.seconds);
    const doneSteps = run.stages.slice(0, state.stage).reduce((n, s) => n + s.epochs * run.steps(splits.train.n), 0) + state.epoch * run.steps(splits.train.n);
    run.spec.onEvent?.({ type: 'epoch', record, epochs: stage.epochs, doneSteps, totalSteps: totalSteps(run), elapsed: (performance.now() - started) / 1000 });
  }
}

/** Moves the loop state past epoch `epoch` of stage `si` and writes the checkpoint. */
function advance(run: Run, state: CheckpointState, si: number, epoch: number, record: EpochRecord, trainSeconds: number, wallSeconds: number): void {
  state.history.push(record);
  const nextStage = epoch + 1 < run.stages[si]!.epochs ? si : si + 1;
  state.stage = nextStage;
  state.epoch = nextStage === si ? epoch + 1 : 0;
  state.trainSeconds += trainSeconds;
  state.wallSeconds += wallSeconds;
  // the checkpoint written at a stage boundary must hold the next stage's fresh momentum, so a resume repeats it
  if (nextStage !== si && nextStage < run.stages.length) run.optimizers.resetSgd();
  if (run.spec.checkpointFile) saveCheckpoint(run.spec.checkpointFile, state, run.names, run.optimizers.slots(run.parts));
}

/** The stage's learning rate at a step: constant, the stage's own schedule (per epoch), or the protocol's recipe. */
function rateOf(run: Run, si: number, epoch: number, steps: number): (step: number) => number {
  const stage = run.stages[si]!;
  const { spec } = run;
  const own = stage.schedule;
  if (!own) return () => spec.lr;
  if (typeof own === 'function') return () => own(spec.lr, epoch, stage.epochs);
  const perStep = changesWithinEpoch(spec.protocol);
  return (step) => scheduledRate(spec.lr, spec.protocol, epoch, perStep ? step : 0, steps, stage.epochs);
}

/** One epoch of stage `si` on `split`: its record (losses, first rate) and the milliseconds spent in steps. */
function trainEpoch(run: Run, si: number, split: RawSplit, vars: tf.Variable[], epoch: number): { record: EpochRecord; trainMs: number } {
  const { spec, parts, data } = run;
  const stage = run.stages[si]!;
  const isMain = si === run.stages.length - 1;
  const steps = run.steps(split.n);
  const lrAt = rateOf(run, si, epoch, steps);
  parts.onEpochStart(epoch);
  const epochSeed = spec.seed * 1000 + si; // each stage sees its own, reproducible order
  // cached teacher outputs hold the main stage's stream over the whole training split
  const cacheable = data !== 'none' && !stage.rows;
  const teacherLogits = new EpochLogits(spec.teacher && cacheable ? spec.teacherLogits : undefined, epochSeed, epoch);
  const teachersLogits = (spec.teachers ?? []).map((_, i) => new EpochLogits(cacheable ? spec.teachersLogits?.[i] : undefined, epochSeed, epoch));
  const companionRng = new Rng(epochSeed).fork(`epoch${epoch}`).fork('companions');
  const sums: Record<string, number> = {};
  let count = 0;
  let trainMs = 0;
  for (const batch of batchesOf(run, split, epochSeed, epoch, steps)) {
    const t0 = performance.now();
    const companions = spec.method.procedure?.companions && data !== 'none'
      ? companionBatches(spec.method, batch, spec.splits.train, spec.dataset, epoch, spec.protocol.augment, companionRng)
      : undefined;
    const setup = stepSetup(run, stage, vars, isMain, lrAt(batch.step), epoch, batch.step, steps, teacherLogits, teachersLogits);
    const stepBatch: StepBatch = {
      x: batch.x, labels: data === 'none' ? undefined : batch.y, ids: batch.ids, step: batch.step, epoch, progress: (batch.step + 1) / steps, companions,
    };
    const terms = trainStep(setup, stepBatch);
    trainMs += performance.now() - t0;
    tf.dispose([batch.x, batch.y, ...(companions ?? []).flatMap((c) => [c.x, c.labels])]);
    for (const [k, v] of Object.entries(terms)) {
      if (!Number.isFinite(v)) throw new NonFiniteLossError(`loss term '${k}' became ${v} in stage '${stage.name}', epoch ${epoch + 1}, step ${batch.step + 1}`);
      sums[k] = (sums[k] ?? 0) + v;
    }
    count++;
    spec.onEvent?.({ type: 'step', stage: stage.name, epoch, epochs: stage.epochs, step: batch.step + 1, steps });
  }
  for (const logits of [teacherLogits, ...teachersLogits]) logits.finish();
  const losses = Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / Math.max(1, count)]));
  return { record: { stage: stage.name, epoch: epoch + 1, lr: lrAt(0), losses, seconds: 0 }, trainMs };
}

/** The step of one batch: the stage's update and, in the main stage, the players' (at their rates). */
function stepSetup(
  run: Run, stage: TrainingStage, vars: tf.Variable[], isMain: boolean, lr: number, epoch: number, step: number, steps: number,
  teacherLogits: EpochLogits, teachersLogits: EpochLogits[],
): StepSetup {
  const { spec, parts } = run;
  const perStep = changesWithinEpoch(spec.protocol);
  return {
    student: parts.student, teacher: spec.teacher, teachers: spec.teachers, data: run.data,
    stage: {
      name: `stage '${stage.name}'`, stageName: stage.name, variables: () => vars, losses: (io) => stage.losses(io), optimizer: run.optimizers.sgd, lr,
      ...(stage.gradientCap ? { gradientCap: stage.gradientCap } : {}),
    },
    players: isMain ? parts.players.map((p, i) => ({
      name: `player '${p.name}'`, player: p, variables: () => p.variables(), losses: (io: StepIO) => p.losses(io), optimizer: run.optimizers.players[i]!,
      lr: p.optimizer.schedule ? scheduledRate(p.optimizer.lr, spec.protocol, epoch, perStep ? step : 0, steps, stage.epochs) : p.optimizer.lr,
    })) : [],
    teacherLogits, teachersLogits, afterStep: () => parts.afterStep(),
  };
}

/** The epoch's batches: real ones (seeded order and augmentation) or, for data-free methods, synthetic ones. */
function batchesOf(run: Run, split: RawSplit, epochSeed: number, epoch: number, steps: number): Generator<Batch> {
  const { spec } = run;
  if (run.data === 'none') return syntheticBatches(spec.method, split.n, spec.protocol.batchSize, epoch, steps);
  return batches(split, spec.dataset, {
    batchSize: spec.protocol.batchSize, seed: epochSeed, epoch, shuffle: true, augment: spec.protocol.augment, dropLast: spec.protocol.dropLast ?? false,
  });
}

/** Best and last accuracy, throughput, and the parts' metrics and artifacts. */
function finish(run: Run, state: CheckpointState, resumedFromEpoch: number | undefined): TrainResult {
  const { spec, parts } = run;
  const evaluateOn = (model: Model, opts?: Parameters<typeof evaluate>[3]) => evaluate(model, spec.splits.evaluation, spec.dataset, opts);
  const lastEval = [...state.history].reverse().find((r) => r.eval && r.stage === 'main')?.eval ?? evaluateOn(parts.evaluated);
  const best = state.best ?? { ...lastEval, epoch: spec.protocol.epochs };
  const total = totalSteps(run);
  const trainedImages = total > 0 ? (total * spec.splits.train.n) / run.steps(spec.splits.train.n) : 0;
  return {
    best,
    last: lastEval,
    history: state.history,
    trainSeconds: state.trainSeconds,
    wallSeconds: state.wallSeconds,
    imagesPerSecond: state.trainSeconds > 0 ? trainedImages / state.trainSeconds : 0,
    resumedFromEpoch,
    metrics: parts.metrics(evaluateOn),
    artifacts: spec.artifactsDir ? parts.artifacts(spec.artifactsDir) : [],
  };
}

/** The synthetic batches of a data-free method: as many steps and rows as a real epoch would have. */
function* syntheticBatches(method: MethodInstance, n: number, batchSize: number, epoch: number, steps: number): Generator<Batch> {
  for (let s = 0; s < steps; s++) {
    const size = Math.min(batchSize, n - s * batchSize);
    const x = tf.tidy(() => method.procedure!.syntheticBatch!(size, epoch, s));
    if (x.rank !== 4 || x.shape[0] !== size) {
      tf.dispose(x);
      throw new Error(`syntheticBatch returned shape [${x.shape}], expected [${size}, H, W, C]`);
    }
    yield { x, y: tf.zeros([size], 'int32') as tf.Tensor1D, ids: new Int32Array(size).fill(-1), step: s };
  }
}

/** The partner sets the companions hook asks for, each augmented in turn with the epoch's companion generator. */
function companionBatches(
  method: MethodInstance, batch: Batch, train: RawSplit, dataset: DatasetId, epoch: number, augment: boolean, rng: Rng,
): Companion[] {
  const asked = method.procedure!.companions!(batch.ids, batch.y.dataSync() as Int32Array, epoch);
  const sets = asked instanceof Int32Array ? [asked] : asked;
  if (sets.length === 0) throw new Error('companions returned no row arrays');
  sets.forEach((rows, i) => {
    if (rows.length !== batch.ids.length) throw new Error(`companions returned ${rows.length} rows in set ${i} for a batch of ${batch.ids.length}`);
  });
  const out: Companion[] = [];
  try {
    for (const rows of sets) {
      const b = rowsBatch(train, dataset, rows, { augment, rng });
      out.push({ x: b.x, labels: b.y, ids: b.ids });
    }
  } catch (e) {
    tf.dispose(out.flatMap((c) => [c.x, c.labels]));
    throw e;
  }
  return out;
}

/** Short training of a candidate network on rows of the training split, scored on other rows (NAS). */
export function makeProbe(a: { dataset: DatasetId; train: RawSplit; protocol: Protocol; seed: number; lr: number; teacher?: Model }) {
  return (model: Model, opts: { epochs: number; trainRows: Int32Array; validationRows: Int32Array; losses: (io: StepIO) => LossTerms; lr?: number }) => {
    if (!(Number.isInteger(opts.epochs) && opts.epochs >= 1)) throw new Error(`probe: epochs must be a positive integer, got ${opts.epochs}`);
    const overlap = new Set(opts.trainRows);
    if (opts.validationRows.some((r) => overlap.has(r))) throw new Error('probe: validation rows overlap the training rows');
    const t0 = performance.now();
    const result = train({
      dataset: a.dataset,
      splits: { train: subsetSplit(a.train, opts.trainRows), evaluation: subsetSplit(a.train, opts.validationRows), evalSplit: 'holdout', description: 'probe' },
      protocol: { ...a.protocol, epochs: opts.epochs }, lr: opts.lr ?? a.lr, seed: a.seed, student: model, teacher: a.teacher,
      method: { losses: opts.losses },
    });
    return { top1: result.last.top1, seconds: (performance.now() - t0) / 1000 };
  };
}
