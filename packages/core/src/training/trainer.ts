/**
 * The one training loop every method runs through: stages (a method's own stages, then the main
 * stage), epochs of seeded batches (or a data-free method's synthetic batches), players stepped
 * before the student, SGD with momentum and weight decay for the student, per-term loss logging,
 * evaluation after each epoch, best/last accuracy, and a checkpoint after each epoch from which an
 * interrupted run resumes exactly.
 */
import { Rng, tf } from '@kdbench/engine';
import { batchCount, batches, rowsBatch, subsetSplit, type Batch, type DatasetId, type RawSplit, type RunSplits } from '@kdbench/data';
import type { ForwardResult, Model } from '@kdbench/models';
import type { LossTerms, MethodInstance, OptimizerSpec, Player, StageTools, StepIO, TrainingStage } from '../method.js';
import type { Protocol } from '../protocols.js';
import { changesWithinEpoch, scheduledRate } from '../optim/schedule.js';
import { Sgd } from '../optim/sgd.js';
import { Adam } from '../optim/adam.js';
import type { Optimizer } from '../optim/optimizer.js';
import { evaluate, type Accuracy } from './evaluate.js';
import { loadCheckpoint, saveCheckpoint, type CheckpointState, type OptimizerSlots } from './checkpoint.js';
import { VariableNames } from './variable-names.js';
import { makeStepIO, type DataAccess } from './step-io.js';
import { stageTools } from './stage-tools.js';
import { EpochLogits, type TeacherLogitsCache } from './epoch-logits.js';

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
  /** Numbers the method recorded through StageTools.record. */
  records: Record<string, number>;
}

export class NonFiniteLossError extends Error {}

/**
 * Teacher logits of one epoch of a data stream, in batch order: row i is the i-th record the
 * epoch's batches yield ([n, classes], float32). Batch order and augmentation are a pure function of
 * (seed, epoch), so the rows are valid for every method trained on the same stream.
 */
export type { TeacherLogitsCache } from './epoch-logits.js';

export function makeOptimizer(spec: OptimizerSpec): Optimizer {
  if (spec.kind === 'sgd') return new Sgd({ momentum: spec.momentum, weightDecay: spec.weightDecay });
  if (spec.kind === 'adam') return new Adam({ beta1: spec.beta1, beta2: spec.beta2, weightDecay: spec.weightDecay });
  throw new Error(`unknown optimiser kind '${(spec as { kind: string }).kind}'`);
}

const unique = (vars: tf.Variable[]): tf.Variable[] => [...new Set(vars)];

export function train(spec: TrainSpec): TrainResult {
  const { method, protocol, splits } = spec;
  const student = method.student ?? spec.student;
  const data: DataAccess = spec.data ?? 'labeled';
  if (data === 'none' && !method.syntheticBatch) throw new Error("a method declaring data: 'none' must provide syntheticBatch");
  const moduleVars = Object.values(method.modules ?? {}).flatMap((m) => m.trainableVariables());
  const networkVars = Object.values(method.networks ?? {}).filter((s) => s.trainInMain).flatMap((s) => s.model.trainableVariables());
  const main: TrainingStage = {
    name: 'main',
    epochs: protocol.epochs,
    schedule: true,
    variables: () => unique([...student.trainableVariables(), ...moduleVars, ...networkVars]),
    losses: (io) => method.losses(io),
    ...(method.main?.rows ? { rows: () => method.main!.rows!() } : {}),
    ...(method.main?.onEnd ? { onEnd: (tools: StageTools) => method.main!.onEnd!(tools) } : {}),
  };
  const stages = [...(method.stages ?? []), main];
  const names = new VariableNames(student, method);
  const players = method.players ?? [];
  for (const p of players) {
    for (const [k, v] of [['stepsPerBatch', p.stepsPerBatch], ['every', p.every]] as const) {
      if (v !== undefined && !(Number.isInteger(v) && v >= 1)) throw new Error(`player '${p.name}': ${k} must be a positive integer, got ${v}`);
    }
  }
  const playerOptimizers = players.map((p) => makeOptimizer(p.optimizer));
  const newSgd = () => new Sgd({ momentum: protocol.momentum, weightDecay: protocol.weightDecay });
  let sgd = newSgd();
  const optimizers = (): OptimizerSlots => ({
    'momentum/': sgd,
    ...Object.fromEntries(players.map((p, i) => [`opt/${p.name}/`, playerOptimizers[i]!])),
  });
  const dropLast = protocol.dropLast ?? false;
  const stepsFor = (n: number) => batchCount(n, { batchSize: protocol.batchSize, dropLast });
  const fullSteps = stepsFor(splits.train.n);
  const totalSteps = stages.reduce((n, s) => n + s.epochs * fullSteps, 0); // an estimate when stages train on subsets

  let state: CheckpointState = { stage: 0, epoch: 0, history: [], best: null, trainSeconds: 0, wallSeconds: 0, records: {} };
  let resumedFromEpoch: number | undefined;
  if (spec.checkpointFile) {
    const restored = loadCheckpoint(spec.checkpointFile, names, optimizers(), stages);
    if (restored) {
      state = restored;
      // epochs already done, over all stages (a run killed after its last epoch resumes from all of them)
      resumedFromEpoch = stages.slice(0, restored.stage).reduce((n, st) => n + st.epochs, 0) + restored.epoch;
      spec.onEvent?.({ type: 'resume', stage: stages[restored.stage]?.name ?? 'main', epoch: restored.epoch });
    }
  }
  const tools = stageTools({ train: splits.train, evaluation: splits.evaluation, dataset: spec.dataset, records: state.records });

  const started = Date.now();
  let imagesTrained = 0;
  let trainMs = 0;
  let doneSteps = stages.slice(0, state.stage).reduce((n, s) => n + s.epochs * fullSteps, 0) + state.epoch * fullSteps;

  for (let si = state.stage; si < stages.length; si++) {
    const stage = stages[si]!;
    const isMain = stage === main;
    const vars = stage.variables();
    const stageSplit = stage.rows ? subsetSplit(splits.train, stage.rows()) : splits.train;
    if (stageSplit.n === 0) throw new Error(`stage '${stage.name}' has no training rows`);
    const steps = stepsFor(stageSplit.n);
    for (let epoch = si === state.stage ? state.epoch : 0; epoch < stage.epochs; epoch++) {
      const epochStart = Date.now();
      // the stage's rate at a step: constant, the method's own schedule (per epoch), or the protocol's recipe
      const lrAt = (step: number): number => !stage.schedule
        ? spec.lr
        : isMain && method.learningRate
          ? method.learningRate(spec.lr, epoch, stage.epochs)
          : scheduledRate(spec.lr, protocol, epoch, step, steps, stage.epochs);
      const lr = lrAt(0);
      method.onEpochStart?.(epoch);
      const sums: Record<string, number> = {};
      let count = 0;
      const epochSeed = spec.seed * 1000 + si; // each stage sees its own, reproducible order
      // cached teacher outputs hold the main stage's stream over the whole training split
      const cacheable = data !== 'none' && !stage.rows;
      const mainLogits = new EpochLogits(spec.teacher && cacheable ? spec.teacherLogits : undefined, epochSeed, epoch);
      const extraLogits = (spec.teachers ?? []).map((_, i) => new EpochLogits(cacheable ? spec.teachersLogits?.[i] : undefined, epochSeed, epoch));
      const companionRng = new Rng(epochSeed).fork(`epoch${epoch}`).fork('companions');
      const source = data === 'none'
        ? syntheticBatches(method, stageSplit.n, protocol.batchSize, epoch, steps)
        : batches(stageSplit, spec.dataset, { batchSize: protocol.batchSize, seed: epochSeed, epoch, shuffle: true, augment: protocol.augment, dropLast });
      for (const batch of source) {
        const t0 = Date.now();
        const size = batch.ids.length;
        const companion = method.companions && data !== 'none'
          ? companionBatch(method, batch, splits.train, spec.dataset, epoch, protocol.augment, companionRng)
          : undefined;
        const perStep = changesWithinEpoch(protocol);
        const terms = step({
          spec, stage, student, data, vars, sgd, lr: perStep ? lrAt(batch.step) : lr, batch, epoch, progress: (batch.step + 1) / steps,
          mainLogits, extraLogits, companion, players: isMain ? players : [], playerOptimizers,
          playerLr: (p) => playerLearningRate(p, protocol, epoch, perStep ? batch.step : 0, steps, stage.epochs),
        });
        trainMs += Date.now() - t0;
        imagesTrained += size;
        tf.dispose(companion ? [batch.x, batch.y, companion.x, companion.labels] : [batch.x, batch.y]);
        for (const [k, v] of Object.entries(terms)) {
          if (!Number.isFinite(v)) {
            throw new NonFiniteLossError(`loss term '${k}' became ${v} in stage '${stage.name}', epoch ${epoch + 1}, step ${batch.step + 1}`);
          }
          sums[k] = (sums[k] ?? 0) + v;
        }
        count++;
        doneSteps++;
        spec.onEvent?.({ type: 'step', stage: stage.name, epoch, epochs: stage.epochs, step: batch.step + 1, steps });
      }
      for (const logits of [mainLogits, ...extraLogits]) logits.finish();
      const losses = Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / Math.max(1, count)]));
      const record: EpochRecord = { stage: stage.name, epoch: epoch + 1, lr, losses, seconds: 0 };
      if (isMain) {
        record.eval = evaluate(student, splits.evaluation, spec.dataset);
        if (!state.best || record.eval.top1 > state.best.top1) state.best = { ...record.eval, epoch: epoch + 1 };
      } else if (stage.evaluate) {
        record.eval = evaluate(stage.evaluate, splits.evaluation, spec.dataset);
      }
      if (epoch + 1 === stage.epochs) stage.onEnd?.(tools); // before the checkpoint: a crash inside onEnd repeats the epoch
      record.seconds = (Date.now() - epochStart) / 1000;
      state.history.push(record);
      const nextStage = epoch + 1 < stage.epochs ? si : si + 1;
      state = {
        ...state,
        stage: nextStage,
        epoch: nextStage === si ? epoch + 1 : 0,
        trainSeconds: state.trainSeconds + trainMs / 1000,
        wallSeconds: state.wallSeconds + (Date.now() - epochStart) / 1000,
      };
      trainMs = 0;
      if (nextStage !== si && nextStage < stages.length) {
        // a new stage starts with fresh momentum (a separate optimisation in the papers), and the
        // checkpoint written at the boundary must hold that fresh state so a resume repeats it
        sgd.dispose();
        sgd = newSgd();
      }
      if (spec.checkpointFile) saveCheckpoint(spec.checkpointFile, state, names, optimizers());
      spec.onEvent?.({ type: 'epoch', record, epochs: stage.epochs, doneSteps, totalSteps, elapsed: (Date.now() - started) / 1000 });
    }
  }
  sgd.dispose();
  playerOptimizers.forEach((o) => o.dispose());

  const lastEval = [...state.history].reverse().find((r) => r.eval && r.stage === 'main')?.eval ?? evaluate(student, splits.evaluation, spec.dataset);
  const best = state.best ?? { ...lastEval, epoch: protocol.epochs };
  const trainedImages = totalSteps > 0 ? (totalSteps * splits.train.n) / fullSteps : 0;
  return {
    best,
    last: lastEval,
    history: state.history,
    trainSeconds: state.trainSeconds,
    wallSeconds: state.wallSeconds,
    imagesPerSecond: state.trainSeconds > 0 ? trainedImages / state.trainSeconds : imagesTrained,
    resumedFromEpoch,
    records: { ...state.records },
  };
}

function playerLearningRate(p: Player, protocol: Protocol, epoch: number, step: number, steps: number, epochs: number): number {
  return p.optimizer.schedule ? scheduledRate(p.optimizer.lr, protocol, epoch, step, steps, epochs) : p.optimizer.lr;
}

/** The synthetic batches of a data-free method: as many steps and rows as a real epoch would have. */
function* syntheticBatches(method: MethodInstance, n: number, batchSize: number, epoch: number, steps: number): Generator<Batch> {
  for (let s = 0; s < steps; s++) {
    const size = Math.min(batchSize, n - s * batchSize);
    const x = tf.tidy(() => method.syntheticBatch!(size, epoch, s));
    if (x.rank !== 4 || x.shape[0] !== size) {
      tf.dispose(x);
      throw new Error(`syntheticBatch returned shape [${x.shape}], expected [${size}, H, W, C]`);
    }
    yield { x, y: tf.zeros([size], 'int32') as tf.Tensor1D, ids: new Int32Array(size).fill(-1), step: s };
  }
}

function companionBatch(
  method: MethodInstance, batch: Batch, train: RawSplit, dataset: DatasetId, epoch: number, augment: boolean, rng: Rng,
): NonNullable<StepIO['companion']> {
  const rows = method.companions!(batch.ids, batch.y.dataSync() as Int32Array, epoch);
  if (rows.length !== batch.ids.length) throw new Error(`companions returned ${rows.length} rows for a batch of ${batch.ids.length}`);
  const b = rowsBatch(train, dataset, rows, { augment, rng });
  return { x: b.x, labels: b.y, ids: b.ids };
}

interface StepArgs {
  spec: TrainSpec;
  stage: TrainingStage;
  student: Model;
  data: DataAccess;
  vars: tf.Variable[];
  sgd: Sgd;
  lr: number;
  batch: Batch;
  epoch: number;
  progress: number;
  mainLogits: EpochLogits;
  extraLogits: EpochLogits[];
  companion?: StepIO['companion'];
  players: Player[];
  playerOptimizers: Optimizer[];
  playerLr: (p: Player) => number;
}

/** One batch: each player's steps, then the stage's step; returns the loss terms' values (and `total`). */
function step(a: StepArgs): Record<string, number> {
  const { spec, batch } = a;
  const out: Record<string, number> = {};
  tf.tidy(() => {
    const size = batch.ids.length;
    let teacherOut = a.mainLogits.next(size);
    if (!teacherOut && spec.teacher) {
      teacherOut = spec.teacher.forward(batch.x, { training: false });
      a.mainLogits.collect(teacherOut.logits);
    }
    // extra teachers: all from the cache, or computed now when some are being collected, else on first read
    let teachersOut: ForwardResult[] | undefined;
    if (a.extraLogits.length > 0 && a.extraLogits.every((e) => e.cached)) {
      teachersOut = a.extraLogits.map((e) => e.next(size)!);
    } else if (a.extraLogits.some((e) => e.collecting)) {
      teachersOut = spec.teachers!.map((t, i) => a.extraLogits[i]!.next(size) ?? t.forward(batch.x, { training: false }));
      teachersOut.forEach((t, i) => a.extraLogits[i]!.collect(t.logits));
    }
    const io = () => makeStepIO({
      x: batch.x, labels: a.data === 'none' ? undefined : batch.y, ids: batch.ids, student: a.student, teacher: teacherOut,
      teachers: spec.teachers, teachersOut, companion: a.companion, epoch: a.epoch, progress: a.progress, step: batch.step,
      stage: a.stage.name, data: a.data, synthetic: a.data === 'none',
    });
    a.players.forEach((p, i) => {
      if (batch.step % (p.every ?? 1) !== 0) return;
      for (let k = 0; k < (p.stepsPerBatch ?? 1); k++) {
        const terms = optimize(`player '${p.name}'`, p.variables(), () => p.losses(io()), a.playerOptimizers[i]!, a.playerLr(p));
        for (const [name, v] of Object.entries(terms)) out[`${p.name}/${name}`] = v;
      }
    });
    const terms = optimize(`stage '${a.stage.name}'`, a.vars, () => a.stage.losses(io()), a.sgd, a.lr);
    Object.assign(out, terms);
    out.total = Object.values(terms).reduce((s, v) => s + v, 0);
  });
  spec.method.afterStep?.();
  return out;
}

/** Minimises the sum of `losses()` over `vars` with one optimiser step; returns each term's value. */
function optimize(who: string, vars: tf.Variable[], losses: () => LossTerms, opt: Optimizer, lr: number): Record<string, number> {
  let termNames: string[] = [];
  let values: Float32Array | Int32Array | Uint8Array = new Float32Array(0);
  tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => {
      const terms = losses();
      termNames = Object.keys(terms);
      if (termNames.length === 0) throw new Error(`${who} returned no loss terms`);
      const list = termNames.map((k) => terms[k]!);
      values = tf.stack(list).dataSync();
      return tf.addN(list) as tf.Scalar;
    }, vars);
    opt.apply(lr, vars, grads);
    tf.dispose([value, ...Object.values(grads)]);
  });
  return Object.fromEntries(termNames.map((k, i) => [k, values[i]!]));
}

/** Short training of a candidate network on rows of the training split, scored on other rows (NAS). */
export function makeProbe(a: { dataset: DatasetId; train: RawSplit; protocol: Protocol; seed: number; lr: number; teacher?: Model }) {
  return (model: Model, opts: { epochs: number; trainRows: Int32Array; validationRows: Int32Array; losses: (io: StepIO) => LossTerms; lr?: number }) => {
    if (!(Number.isInteger(opts.epochs) && opts.epochs >= 1)) throw new Error(`probe: epochs must be a positive integer, got ${opts.epochs}`);
    const overlap = new Set(opts.trainRows);
    if (opts.validationRows.some((r) => overlap.has(r))) throw new Error('probe: validation rows overlap the training rows');
    const t0 = Date.now();
    const result = train({
      dataset: a.dataset,
      splits: { train: subsetSplit(a.train, opts.trainRows), evaluation: subsetSplit(a.train, opts.validationRows), evalSplit: 'holdout', description: 'probe' },
      protocol: { ...a.protocol, epochs: opts.epochs }, lr: opts.lr ?? a.lr, seed: a.seed, student: model, teacher: a.teacher,
      method: { losses: opts.losses },
    });
    return { top1: result.last.top1, seconds: (Date.now() - t0) / 1000 };
  };
}
