/**
 * The class-incremental protocol shared by the lifelong methods (survey section 5.8): the classes,
 * in a seeded order, are cut into tasks (CIFAR-10: 5 of 2 classes, CIFAR-100: 10 of 10); the
 * student learns the tasks one after the other, each as a training stage of `ctx.epochs` epochs with
 * the protocol's schedule on the rows the method chooses (the task's rows, plus exemplars or old
 * data for some methods). Tasks 1..T-1 are the procedure's `stages`; the last task is the main
 * stage (`main`: its rows and end-of-task hook), so the run's final accuracy is the network's accuracy after the
 * last task (its per-epoch evaluation covers all classes, all seen by then).
 *
 * After each task the student is evaluated on the evaluation records of every class seen so far,
 * with a classifier over the seen classes only (the network's seen-class logits, or the method's
 * own classifier such as iCaRL's nearest mean of exemplars), overall and per task, and reported as metrics:
 *   acc_after_task_<k>, acc_task_<j>_after_task_<k>, and after the last task
 *   average_incremental_accuracy, last_accuracy, forgetting (metrics.ts).
 * The per-task table lives in a buffer (checkpointed), so a resumed run reports the same metrics.
 *
 * Taxonomy: family 'lifelong'; scheme 'offline' because the distilling methods (LwF, iCaRL) learn
 * each task from a frozen copy of the network taken after the previous task — a fixed, already
 * trained teacher, which is the survey's offline scheme, even though teacher and student share an
 * architecture and no external teacher is loaded. Their knowledge is 'response' (old-class outputs);
 * the bounds (finetune, joint) distil nothing and declare 'none'.
 */
import { tf } from '@kdbench/engine';
import type { Model } from '@kdbench/models';
import type { LossTerms, MethodContext, MethodInstance, NetworkSlot, Part, StageTools, StepIO, TrainingStage } from '@kdbench/core';
import { classOrder, defaultTasks, rowsOfClasses, taskClasses } from './tasks.js';
import { incrementalSummary } from './metrics.js';

export const INCREMENTAL_DEFAULTS = { tasks: 0, classOrderSeed: 1993 };

export const INCREMENTAL_DOCS = {
  tasks: 'number of tasks the classes are cut into (0: 5 on CIFAR-10, 10 on CIFAR-100)',
  classOrderSeed: "seed of the class order (1993, the seed of iCaRL's released code)",
};

export type IncrementalHyper = typeof INCREMENTAL_DEFAULTS;

/** The tasks of a run: classes of each task and the training rows of each task. */
export interface TaskPlan {
  readonly classes: number[][];
  readonly rows: Int32Array[];
  /** Classes seen up to and including task k. */
  seen(k: number): number[];
}

export function planTasks(ctx: MethodContext<IncrementalHyper>): TaskPlan {
  const count = ctx.hp.tasks > 0 ? ctx.hp.tasks : defaultTasks(ctx.numClasses);
  const classes = taskClasses(classOrder(ctx.numClasses, ctx.hp.classOrderSeed), count);
  const rows = classes.map((c) => rowsOfClasses(ctx.trainLabels, c));
  return { classes, rows, seen: (k) => classes.slice(0, k + 1).flat() };
}

/** What a lifelong method adds to the protocol. */
export interface Strategy {
  /** Training rows of task k (default: the task's own rows). */
  rows?(k: number): Int32Array;
  losses(io: StepIO, k: number): LossTerms;
  /** After task k's training, before its evaluation (exemplar selection). */
  afterTask?(k: number, tools: StageTools): void;
  /** After task k's evaluation, when a task follows (the snapshot of the old model). */
  beforeNextTask?(k: number): void;
  /** The classifier of the evaluation after task k (default: the student's logits over the seen classes). */
  classify?(k: number): (x: tf.Tensor4D) => tf.Tensor2D;
  /** Networks the strategy keeps (the previous model), checkpointed and disposed by the trainer. */
  networks?: Record<string, NetworkSlot>;
  /** The strategy's own state (the exemplar memory). */
  parts?: Record<string, Part>;
}

/** Logits with the columns of unseen classes pushed to -1e9 (a head that has only the seen classes). */
export function seenLogits(logits: tf.Tensor2D, seen: readonly number[], numClasses: number): tf.Tensor2D {
  const keep = new Set(seen);
  const mask = tf.tensor1d(Array.from({ length: numClasses }, (_, c) => (keep.has(c) ? 0 : -1e9)));
  return tf.add(logits, mask);
}

/** Columns `classes` of a [B, C] tensor, in that order. */
export function columns(x: tf.Tensor2D, classes: readonly number[]): tf.Tensor2D {
  return tf.gather(x, tf.tensor1d(classes as number[], 'int32'), 1);
}

/** Copies every variable (weights and batch-norm statistics) of `from` into `to` (same architecture). */
export function copyWeights(from: Model, to: Model): void {
  const source = new Map(from.namedVariables().map((v) => [v.name, v.variable]));
  for (const { name, variable } of to.namedVariables()) {
    const v = source.get(name);
    if (!v) throw new Error(`copyWeights: '${name}' missing in the source network`);
    variable.assign(v);
  }
}

export function classIncremental(ctx: MethodContext<IncrementalHyper>, plan: TaskPlan, strategy: Strategy): MethodInstance {
  const T = plan.classes.length;
  const student = ctx.student;
  // row k: seen accuracy after task k, then its per-task accuracies; the last value is 1 once the last task has ended
  const table = tf.tidy(() => tf.variable(tf.zeros([T * (T + 1) + 1]), false));
  const rowsOf = (k: number) => strategy.rows?.(k) ?? plan.rows[k]!;

  const cell = (k: number, j: number) => k * (T + 1) + 1 + j; // accuracy on task j after task k
  const endTask = (k: number, tools: StageTools) => {
    strategy.afterTask?.(k, tools);
    const seen = plan.seen(k);
    const classify = strategy.classify?.(k) ?? ((x: tf.Tensor4D) => seenLogits(student.forward(x, { training: false }).logits, seen, ctx.numClasses));
    const values = table.dataSync().slice();
    values[k * (T + 1)] = tools.evaluate(student, { classes: seen, classify }).top1;
    for (let j = 0; j <= k; j++) values[cell(k, j)] = tools.evaluate(student, { classes: plan.classes[j]!, classify }).top1;
    if (k === T - 1) values[T * (T + 1)] = 1;
    tf.tidy(() => table.assign(tf.tensor1d(values)));
    if (k < T - 1) strategy.beforeNextTask?.(k);
  };

  /** Every task's accuracies and the summary, read from the table (kept in the checkpoint). */
  const metrics = (): Record<string, number> => {
    const values = table.dataSync();
    // a trainer whose main stage ignores `main` would train the last task on every class: fail loudly
    if (values[T * (T + 1)] !== 1) throw new Error("class-incremental run ended without the last task's evaluation: the trainer must honour the procedure's `main` rows and onEnd");
    const out: Record<string, number> = {};
    for (let k = 0; k < T; k++) {
      out[`acc_after_task_${k + 1}`] = values[k * (T + 1)]!;
      for (let j = 0; j <= k; j++) out[`acc_task_${j + 1}_after_task_${k + 1}`] = values[cell(k, j)]!;
    }
    const s = incrementalSummary(
      Array.from({ length: T }, (_, k) => values[k * (T + 1)]!),
      Array.from({ length: T }, (_, k) => Array.from({ length: k + 1 }, (_, j) => values[cell(k, j)]!)),
    );
    return { ...out, average_incremental_accuracy: s.averageIncremental, last_accuracy: s.last, forgetting: s.forgetting };
  };

  const stages: TrainingStage[] = Array.from({ length: T - 1 }, (_, k) => ({
    name: `task${k + 1}`,
    epochs: ctx.epochs,
    schedule: true,
    variables: () => student.trainableVariables(),
    rows: () => rowsOf(k),
    losses: (io) => strategy.losses(io, k),
    onEnd: (tools) => endTask(k, tools),
  }));

  return {
    procedure: {
      stages,
      main: { rows: () => rowsOf(T - 1), onEnd: (tools) => endTask(T - 1, tools) },
      ...(strategy.networks ? { networks: strategy.networks } : {}),
    },
    parts: { ...(strategy.parts ?? {}), accuracies: { buffers: () => ({ accuracies: table }), metrics, dispose: () => table.dispose() } },
    losses: (io) => strategy.losses(io, T - 1),
  };
}
