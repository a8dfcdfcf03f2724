/**
 * The one training loop every method runs through: stages (a method's own initialisation stages,
 * then the main stage), epochs of seeded batches, SGD with momentum and weight decay, per-term
 * loss logging, evaluation after each main epoch, best/last accuracy, and a checkpoint after each
 * epoch from which an interrupted run resumes exactly.
 */
import { tf } from '@kdbench/engine';
import { batchCount, batches, type DatasetId, type RunSplits } from '@kdbench/data';
import type { ForwardResult, Model } from '@kdbench/models';
import type { LossTerms, MethodInstance, StepIO, TrainingStage } from '../method.js';
import type { Protocol } from '../protocols.js';
import { learningRate } from '../optim/schedule.js';
import { Sgd } from '../optim/sgd.js';
import { evaluate, type Accuracy } from './evaluate.js';
import { loadCheckpoint, saveCheckpoint, type CheckpointState } from './checkpoint.js';
import { VariableNames } from './variable-names.js';

export interface EpochRecord {
  stage: string;
  epoch: number;
  lr: number;
  /** Mean of each loss term over the epoch's steps (plus `total`). */
  losses: Record<string, number>;
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
  method: MethodInstance;
  /** Checkpoint file: written after every epoch, read at start to resume. */
  checkpointFile?: string;
  /**
   * Teacher-output cache, for methods that read only the teacher's logits: an epoch whose logits
   * are stored is trained without running the teacher; otherwise the logits are collected and stored.
   */
  teacherLogits?: TeacherLogitsCache;
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
}

export class NonFiniteLossError extends Error {}

/**
 * Teacher logits of one epoch of a data stream, in batch order: row i is the i-th record the
 * epoch's batches yield ([n, classes], float32). Batch order and augmentation are a pure function of
 * (seed, epoch), so the rows are valid for every method trained on the same stream.
 */
export interface TeacherLogitsCache {
  read(seed: number, epoch: number): { values: Float32Array; classes: number } | undefined;
  write(seed: number, epoch: number, values: Float32Array, classes: number): void;
}

/** A ForwardResult holding only logits; reading features from it is a method-declaration bug. */
function logitsOnly(logits: tf.Tensor2D): ForwardResult {
  const fail = (): never => {
    throw new Error("teacher features requested from the teacher-output cache: a method declaring teacherOutputs: 'logits' may read only io.teacher.logits");
  };
  return { logits, get features() { return fail(); }, get embedding() { return fail(); } };
}

export function train(spec: TrainSpec): TrainResult {
  const { student, method, protocol, splits } = spec;
  const moduleVars = Object.values(method.modules ?? {}).flatMap((m) => m.trainableVariables());
  const main: TrainingStage = {
    name: 'main',
    epochs: protocol.epochs,
    variables: () => [...student.trainableVariables(), ...moduleVars],
    losses: (io) => method.losses(io),
  };
  const stages = [...(method.stages ?? []), main];
  const names = new VariableNames(student, method);
  const steps = batchCount(splits.train.n, { batchSize: protocol.batchSize, dropLast: false });
  const totalSteps = stages.reduce((n, s) => n + s.epochs * steps, 0);

  let state: CheckpointState = { stage: 0, epoch: 0, history: [], best: null, trainSeconds: 0, wallSeconds: 0 };
  let sgd = new Sgd({ momentum: protocol.momentum, weightDecay: protocol.weightDecay });
  let resumedFromEpoch: number | undefined;
  if (spec.checkpointFile) {
    const restored = loadCheckpoint(spec.checkpointFile, names, sgd, stages);
    if (restored) {
      state = restored;
      // epochs already done, over all stages (a run killed after its last epoch resumes from all of them)
      resumedFromEpoch = stages.slice(0, restored.stage).reduce((n, st) => n + st.epochs, 0) + restored.epoch;
      spec.onEvent?.({ type: 'resume', stage: stages[restored.stage]?.name ?? 'main', epoch: restored.epoch });
    }
  }

  const started = Date.now();
  let imagesTrained = 0;
  let trainMs = 0;
  let doneSteps = stages.slice(0, state.stage).reduce((n, s) => n + s.epochs * steps, 0) + state.epoch * steps;

  for (let si = state.stage; si < stages.length; si++) {
    const stage = stages[si]!;
    const isMain = stage === main;
    const vars = stage.variables();
    for (let epoch = si === state.stage ? state.epoch : 0; epoch < stage.epochs; epoch++) {
      const epochStart = Date.now();
      const lr = isMain ? learningRate(spec.lr, protocol.schedule, epoch, stage.epochs) : spec.lr;
      method.onEpochStart?.(epoch);
      const sums: Record<string, number> = {};
      let count = 0;
      const epochSeed = spec.seed * 1000 + si; // each stage sees its own, reproducible order
      const cache = spec.teacher ? spec.teacherLogits : undefined;
      const cached = cache?.read(epochSeed, epoch);
      const collected: Float32Array[] | undefined = cache && !cached ? [] : undefined;
      let row = 0;
      for (const batch of batches(splits.train, spec.dataset, {
        batchSize: protocol.batchSize, seed: epochSeed, epoch, shuffle: true, augment: protocol.augment,
      })) {
        const t0 = Date.now();
        const size = batch.ids.length;
        const teacherLogits = cached
          ? { values: cached.values.subarray(row * cached.classes, (row + size) * cached.classes), classes: cached.classes }
          : undefined;
        row += size;
        const terms = step(spec, stage, vars, sgd, lr, batch, epoch, (batch.step + 1) / steps, teacherLogits, collected);
        trainMs += Date.now() - t0;
        imagesTrained += batch.ids.length;
        tf.dispose([batch.x, batch.y]);
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
      if (cache && collected && collected.length > 0) {
        const classes = collected[0]!.length / Math.min(protocol.batchSize, splits.train.n);
        const all = new Float32Array(collected.reduce((n, c) => n + c.length, 0));
        collected.reduce((offset, c) => (all.set(c, offset), offset + c.length), 0);
        cache.write(epochSeed, epoch, all, classes);
      }
      const losses = Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / Math.max(1, count)]));
      const record: EpochRecord = { stage: stage.name, epoch: epoch + 1, lr, losses, seconds: 0 };
      if (isMain) {
        record.eval = evaluate(student, splits.evaluation, spec.dataset);
        if (!state.best || record.eval.top1 > state.best.top1) state.best = { ...record.eval, epoch: epoch + 1 };
      }
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
      if (spec.checkpointFile) saveCheckpoint(spec.checkpointFile, state, names, sgd);
      spec.onEvent?.({ type: 'epoch', record, epochs: stage.epochs, doneSteps, totalSteps, elapsed: (Date.now() - started) / 1000 });
    }
    if (si + 1 < stages.length) {
      // a new stage starts with fresh momentum (a separate optimisation in the papers)
      sgd.dispose();
      sgd = new Sgd({ momentum: protocol.momentum, weightDecay: protocol.weightDecay });
    }
  }
  sgd.dispose();

  const lastEval = [...state.history].reverse().find((r) => r.eval)?.eval ?? evaluate(student, splits.evaluation, spec.dataset);
  const best = state.best ?? { ...lastEval, epoch: protocol.epochs };
  const trainedImages = totalSteps > 0 ? (totalSteps * splits.train.n) / steps : 0;
  return {
    best,
    last: lastEval,
    history: state.history,
    trainSeconds: state.trainSeconds,
    wallSeconds: state.wallSeconds,
    imagesPerSecond: state.trainSeconds > 0 ? trainedImages / state.trainSeconds : imagesTrained,
    resumedFromEpoch,
  };
}

/** One optimisation step; returns the loss terms' values (and `total`). */
function step(
  spec: TrainSpec,
  stage: TrainingStage,
  vars: tf.Variable[],
  sgd: Sgd,
  lr: number,
  batch: { x: tf.Tensor4D; y: tf.Tensor1D; ids: Int32Array },
  epoch: number,
  progress: number,
  cachedLogits?: { values: Float32Array; classes: number },
  collect?: Float32Array[],
): Record<string, number> {
  let termNames: string[] = [];
  let termValues: tf.Tensor | undefined;
  tf.tidy(() => {
    let teacherOut: ForwardResult | undefined;
    if (cachedLogits) {
      teacherOut = logitsOnly(tf.tensor2d(cachedLogits.values, [batch.ids.length, cachedLogits.classes], 'float32'));
    } else {
      teacherOut = spec.teacher?.forward(batch.x, { training: false });
      if (teacherOut && collect) collect.push(new Float32Array(teacherOut.logits.dataSync()));
    }
    const { value, grads } = tf.variableGrads(() => {
      const io: StepIO = {
        x: batch.x, labels: batch.y, ids: batch.ids, student: spec.student.forward(batch.x, { training: true }),
        teacher: teacherOut, epoch, progress,
      };
      const terms: LossTerms = stage.losses(io);
      termNames = Object.keys(terms);
      if (termNames.length === 0) throw new Error(`stage '${stage.name}' returned no loss terms`);
      const list = termNames.map((k) => terms[k]!);
      termValues = tf.keep(tf.stack(list));
      return tf.addN(list) as tf.Scalar;
    }, vars);
    sgd.apply(lr, vars, grads);
    tf.dispose([value, ...Object.values(grads)]);
  });
  const values = termValues!.dataSync();
  termValues!.dispose();
  const out: Record<string, number> = {};
  termNames.forEach((k, i) => (out[k] = values[i]!));
  out.total = termNames.reduce((s, _, i) => s + values[i]!, 0);
  spec.method.afterStep?.();
  return out;
}
