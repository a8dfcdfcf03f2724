/**
 * The method contract. A distillation method is one small module: metadata that the harness and
 * the report read, default hyperparameters, and `create`, which builds what the method adds to a
 * run (extra trainable parts, loss terms, optional extra training stages).
 *
 * The trainer provides the procedure once for all methods: the method only says what it
 * transfers. Extension points (each optional, so a plain method such as KD writes none):
 * - `modules`: extra trainable parts (regressors, embeddings, memory banks) optimised with the student;
 * - `stages`: training stages that run before the main one (AB/FSP initialisation, FT's paraphraser);
 * - `onEpochStart` / `afterStep`: per-epoch and per-step state updates outside the gradient tape
 *   (memory banks, momentum encoders);
 * - `extraAccuracies`: accuracies a method reports besides its student's (peers, heads, generations).
 *
 * Randomness inside a method must come from `ctx.rng` forked per epoch (`rng.fork(epoch)`), so that a
 * resumed run repeats an uninterrupted one.
 */
import type { Rng, tf } from '@kdbench/engine';
import type { FeatureShape, ForwardResult, Model } from '@kdbench/models';

export type Family =
  | 'baseline'
  | 'response'
  | 'feature'
  | 'attention'
  | 'relation'
  | 'online'
  | 'self'
  | 'adversarial'
  | 'multi-teacher'
  | 'cross-modal'
  | 'data-free'
  | 'quantized'
  | 'lifelong'
  | 'nas';

export const FAMILIES: readonly Family[] = [
  'baseline', 'response', 'feature', 'attention', 'relation', 'online', 'self', 'adversarial',
  'multi-teacher', 'cross-modal', 'data-free', 'quantized', 'lifelong', 'nas',
];

/** The survey's three kinds of knowledge (section 2); `none` for the label-only baseline. */
export type KnowledgeType = 'response' | 'feature' | 'relation' | 'none';
/** The survey's distillation schemes (section 3). */
export type Scheme = 'offline' | 'online' | 'self';

export interface PaperRef {
  readonly authors: string;
  readonly title: string;
  readonly venue: string;
  readonly year: number;
  readonly url: string;
}

export type HyperValue = number | string | boolean;
export type Hyper = Record<string, HyperValue>;

/** Named, already weighted loss terms; the trainer minimises their sum and logs each one. */
export type LossTerms = Record<string, tf.Scalar>;

/** Anything with trainable variables that a method adds to a run. */
export interface TrainableModule {
  trainableVariables(): tf.Variable[];
  dispose(): void;
}

/** What a method's loss sees for one batch. All tensors belong to the trainer's tidy scope. */
export interface StepIO {
  readonly x: tf.Tensor4D;
  readonly labels: tf.Tensor1D;
  /** Dataset record ids of the batch rows (CRD's memory bank indexes by them). */
  readonly ids: Int32Array;
  readonly student: ForwardResult;
  /** The teacher's forward pass in eval mode, outside the gradient tape; absent without a teacher. */
  readonly teacher?: ForwardResult;
  /** 0-based epoch of the current stage and the fraction of the stage done (0..1). */
  readonly epoch: number;
  readonly progress: number;
}

export interface TrainingStage {
  readonly name: string;
  readonly epochs: number;
  /** Variables this stage optimises (e.g. only the paraphraser, or student + connectors). */
  variables(): tf.Variable[];
  losses(io: StepIO): LossTerms;
}

export interface MethodInstance {
  readonly modules?: Record<string, TrainableModule>;
  readonly stages?: TrainingStage[];
  losses(io: StepIO): LossTerms;
  onEpochStart?(epoch: number): void;
  /** Extra accuracies, computed after training with the trainer's evaluation function. */
  extraAccuracies?(evaluate: (model: Model) => { top1: number; top5: number }): Record<string, number>;
  /** Called after each optimiser step, outside the tape (e.g. memory-bank updates kept by `losses`). */
  afterStep?(): void;
  /**
   * Non-trainable state (memory banks, normalisation constants) by stable name: saved in every
   * checkpoint and restored on resume, never touched by the optimiser.
   */
  buffers?(): Record<string, tf.Variable>;
  dispose?(): void;
}

export interface MethodContext<H extends Hyper = Hyper> {
  readonly hp: H;
  readonly numClasses: number;
  readonly student: Model;
  readonly teacher?: Model;
  readonly studentShapes: FeatureShape[];
  readonly teacherShapes?: FeatureShape[];
  /** Number of training records (memory-bank sizes) and epochs of the main stage (schedules). */
  readonly trainSize: number;
  readonly epochs: number;
  /** Training batch size of the protocol (the last batch of an epoch may be smaller). */
  readonly batchSize: number;
  /** Dataset record ids and labels of the training split, in split order (StepIO.ids index into these ids). */
  readonly trainIds: Int32Array;
  readonly trainLabels: Int32Array;
  readonly rng: Rng;
}

export interface MethodDefinition<H extends Hyper = Hyper> {
  /** Short lowercase paper name: `kd`, `dkd`, `fitnet`, ... */
  readonly id: string;
  readonly title: string;
  readonly paper: PaperRef | null;
  readonly family: Family;
  readonly knowledge: KnowledgeType;
  readonly scheme: Scheme;
  readonly teacher: 'required' | 'none';
  readonly defaults: H;
  /** One line per hyperparameter: what it does (shown by `kdbench methods` and the report). */
  readonly hyperDocs: Record<keyof H & string, string>;
  /** Where the implementation departs from the paper, if anywhere ('' when faithful). */
  readonly deviations: string;
  /**
   * What the method reads from the teacher: 'logits' (its losses use `io.teacher.logits` only, so
   * the trainer may serve them from the teacher-output cache instead of running the teacher) or
   * 'features' (default: the full forward pass every step).
   */
  readonly teacherOutputs?: 'logits' | 'features';
  create(ctx: MethodContext<H>): MethodInstance;
}

/** Identity helper that keeps the literal hyperparameter type of a definition. */
export function defineMethod<H extends Hyper>(def: MethodDefinition<H>): MethodDefinition<H> {
  return def;
}
