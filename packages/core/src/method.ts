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
 * Procedures beyond one student and one teacher use the same hooks (see docs/contract in each):
 * - `student`: the network trained and evaluated as "the student" when it is not `ctx.student`
 *   (a quantised wrapper, a searched architecture, a multi-branch network);
 * - `networks`: whole extra networks (peers, generations, snapshots, assistants), checkpointed with
 *   their batch-norm statistics; `ctx.createNetwork` builds them;
 * - `players`: other optimisation players (generator, discriminator) stepped before the student on
 *   every batch, each with its own optimiser and schedule;
 * - `definition.data`: 'unlabeled' hides labels, 'none' hides the training images entirely (the
 *   method supplies `syntheticBatch`);
 * - `companions`: extra records the sampler adds to each batch (CS-KD's same-class partners);
 * - stage options: `schedule`, `rows` (a subset of the training split, e.g. one incremental task),
 *   `evaluate` (a network scored after each epoch of the stage), `onEnd` (per-stage bookkeeping);
 * - `learningRate`: a method-specific schedule of the main stage (snapshot distillation's cycles);
 * - `definition.extraTeachers`: more teachers from the teacher store (multi-teacher methods).
 *
 * Randomness inside a method must come from `ctx.rng` forked per epoch (`rng.fork(epoch)`), so that a
 * resumed run repeats an uninterrupted one.
 */
import type { Rng, tf } from '@kdbench/engine';
import type { FeatureShape, ForwardResult, Model } from '@kdbench/models';
import type { DatasetId } from '@kdbench/data';


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
  /** The batch images (augmented, normalised). Reading it in a method with `data: 'none'` throws. */
  readonly x: tf.Tensor4D;
  /** Labels of the batch. Reading them in a method with `data: 'unlabeled'` or `'none'` throws. */
  readonly labels: tf.Tensor1D;
  /** Dataset record ids of the batch rows (CRD's memory bank indexes by them). */
  readonly ids: Int32Array;
  /** The student's forward pass in training mode on `x`, computed on first read inside the tape. */
  readonly student: ForwardResult;
  /** The teacher's forward pass in eval mode, outside the gradient tape; absent without a teacher. */
  readonly teacher?: ForwardResult;
  /** Extra teachers' forward passes in eval mode (same order as `ctx.teachers`), computed on first read. */
  readonly teachers?: readonly ForwardResult[];
  /** The batch partners returned by `companions` (one per batch row), augmented like the batch. */
  readonly companion?: { readonly x: tf.Tensor4D; readonly labels: tf.Tensor1D; readonly ids: Int32Array };
  /** 0-based epoch of the current stage and the fraction of the stage done (0..1). */
  readonly epoch: number;
  readonly progress: number;
  /** 0-based step within the epoch and the stage's name. */
  readonly step: number;
  readonly stage: string;
}

/** Scores a network on the evaluation split (optionally on some classes only, or through another classifier). */
export interface EvaluateOptions {
  /** Keep only evaluation records of these classes. */
  readonly classes?: readonly number[];
  /** Logits from the input instead of `model.forward(x).logits` (iCaRL's nearest-mean classifier). */
  readonly classify?: (x: tf.Tensor4D) => tf.Tensor2D;
}

export interface StageTools {
  evaluate(model: Model, opts?: EvaluateOptions): { top1: number; top5: number };
  /** Embeddings ([n, D], eval mode, no augmentation) of training-split rows. */
  embed(model: Model, rows: Int32Array): Float32Array;
  /** Records extra accuracies under a name in the run's details (shown by the report). */
  record(name: string, value: number): void;
}

export interface TrainingStage {
  readonly name: string;
  readonly epochs: number;
  /** Variables this stage optimises (e.g. only the paraphraser, or student + connectors). */
  variables(): tf.Variable[];
  losses(io: StepIO): LossTerms;
  /** Follow the protocol's learning-rate schedule over this stage's epochs (default: constant base lr). */
  readonly schedule?: boolean;
  /** Train on these rows of the training split only (read when the stage starts). */
  rows?(): Int32Array;
  /** A network to evaluate after each epoch of this stage (its accuracy goes into the history). */
  readonly evaluate?: Model;
  /** Called after the stage's last epoch (exemplar selection, freezing a generation, ...). */
  onEnd?(tools: StageTools): void;
}

/** Optimiser of a player (the student always uses the protocol's SGD). */
export type OptimizerSpec =
  | { kind: 'sgd'; lr: number; momentum: number; weightDecay: number; schedule?: boolean }
  | { kind: 'adam'; lr: number; beta1: number; beta2: number; weightDecay?: number; schedule?: boolean };

/**
 * An optimisation player besides the student: before each student step, each player takes
 * `stepsPerBatch` steps (default 1) minimising its own losses over its own variables with its own
 * optimiser; with `every` = k it plays only on every k-th batch of an epoch (k student steps per
 * player step, e.g. DFAD's 5). Its loss terms are logged as `<name>/<term>`.
 */
export interface Player {
  readonly name: string;
  readonly optimizer: OptimizerSpec;
  readonly stepsPerBatch?: number;
  /** Play on batches whose index in the epoch is a multiple of this (default 1: every batch). */
  readonly every?: number;
  variables(): tf.Variable[];
  losses(io: StepIO): LossTerms;
}

export interface NetworkSlot {
  readonly model: Model;
  /** Train this network's weights in the main stage together with the student (DML peers). */
  readonly trainInMain: boolean;
}

export interface MethodInstance {
  readonly modules?: Record<string, TrainableModule>;
  readonly stages?: TrainingStage[];
  /** The network trained in the main stage and evaluated as the student (default `ctx.student`). */
  readonly student?: Model;
  /** Whole extra networks by stable name: checkpointed with all their variables. */
  readonly networks?: Record<string, NetworkSlot>;
  readonly players?: Player[];
  /** For `data: 'none'`: the input batch of a step, generated outside the gradient tape. */
  syntheticBatch?(size: number, epoch: number, step: number): tf.Tensor4D;
  /** Split rows (indices into ctx.trainIds) of one partner per batch row; served as `io.companion`. */
  companions?(ids: Int32Array, labels: Int32Array, epoch: number): Int32Array;
  /** Options of the main stage (the last task of an incremental sequence): its training rows and end hook. */
  readonly main?: Pick<TrainingStage, 'rows' | 'onEnd'>;
  /** Learning rate of the main stage at `epoch` (0-based), replacing the protocol's schedule. */
  learningRate?(base: number, epoch: number, epochs: number): number;
  losses(io: StepIO): LossTerms;
  onEpochStart?(epoch: number): void;
  /** Extra accuracies, computed after training with the trainer's evaluation function. */
  extraAccuracies?(evaluate: (model: Model) => { top1: number; top5: number }): Record<string, number>;
  /**
   * Files the run keeps besides its result row (a grid of synthesized images, a search log),
   * written into `dir` after training; returns their names relative to `dir` (stored in the row's details).
   */
  artifacts?(dir: string): string[];
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
  /** The run's dataset (normalisation constants, class structure). */
  readonly dataset: DatasetId;
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
  /** Extra teachers requested by `definition.extraTeachers`, loaded from the teacher store, in order. */
  readonly teachers: readonly Model[];
  /**
   * A fresh zoo network (default: the student's architecture, width and classes), seeded from the
   * run's seed and `name`, so a resumed run rebuilds the same network. The method owns and disposes it.
   */
  createNetwork(name: string, opts?: { model?: string; widthFactor?: number; numClasses?: number }): Model;
  /**
   * Short training of a candidate network (NAS scoring): `epochs` epochs of SGD with the protocol's
   * settings on `trainRows` of the training split, minimising `losses` (io.teacher is the run's
   * teacher, when it has one), then top-1 on
   * `validationRows` of the training split (the evaluation split is never used). Throws for `data: 'none'`.
   */
  probe(model: Model, opts: ProbeOptions): { top1: number; seconds: number };
}

export interface ProbeOptions {
  readonly epochs: number;
  readonly trainRows: Int32Array;
  readonly validationRows: Int32Array;
  readonly losses: (io: StepIO) => LossTerms;
  /** Base learning rate (default: the protocol's). */
  readonly lr?: number;
}

/** One extra teacher a method asks for: trained once per (architecture, seed) and kept in the teacher store. */
export interface ExtraTeacher {
  readonly model: string;
  readonly seed: number;
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
  /**
   * The allowed values of string hyperparameters that take one of a fixed set (a mode, a model id):
   * checked with the other hyperparameters before a run starts, and shown by `kdbench methods`.
   */
  readonly hyperChoices?: { readonly [K in keyof H]?: readonly string[] };
  /** Where the implementation departs from the paper, if anywhere ('' when faithful). */
  readonly deviations: string;
  /**
   * What the method reads from the teacher: 'logits' (its losses use `io.teacher.logits` only, so
   * the trainer may serve them from the teacher-output cache instead of running the teacher) or
   * 'features' (default: the full forward pass every step).
   */
  readonly teacherOutputs?: 'logits' | 'features';
  /**
   * What the method may read of the training split: 'labeled' (default), 'unlabeled' (images
   * only: label-free transfer) or 'none' (data-free: no training image reaches it; it must provide
   * `syntheticBatch`). The trainer enforces it.
   */
  readonly data?: 'labeled' | 'unlabeled' | 'none';
  /**
   * Hyperparameters for the conformance kit and the smoke protocol (tiny budgets: fewer
   * generations, candidates or synthetic steps), merged over `defaults` there only.
   */
  readonly smallHyper?: Partial<H>;
  /** More teachers from the teacher store (multi-teacher methods), given the run's teacher id. */
  extraTeachers?(hp: H, teacher: string): ExtraTeacher[];
  create(ctx: MethodContext<H>): MethodInstance;
}

/** Identity helper that keeps the literal hyperparameter type of a definition. */
export function defineMethod<H extends Hyper>(def: MethodDefinition<H>): MethodDefinition<H> {
  return def;
}
