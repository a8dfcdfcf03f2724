/**
 * The method contract. A distillation method is one small module: metadata that the harness and
 * the report read, default hyperparameters, and `create`, which returns what the method adds to a
 * run: its loss terms, the named parts it owns, and, for methods beyond one student and one
 * teacher, a procedure. A plain method such as KD writes `losses` only.
 *
 *   create(ctx) => ({ losses(io), parts?: { name: Part }, procedure?: Procedure })
 *
 * Every hook, when the trainer calls it, and a method that uses it:
 *
 * | hook | when the trainer calls it | example |
 * |---|---|---|
 * | `losses(io)` | every main-stage step, inside the gradient tape; the sum is minimised | `kd` |
 * | part `trainableVariables()` | once: optimised with the student in the main stage, checkpointed | `fitnet` (regressor) |
 * | part `buffers()` | once: non-trainable state, checkpointed and restored on resume | `crd` (memory banks) |
 * | part `onEpochStart(epoch)` | before each epoch of every stage | `crd` (negative sampler) |
 * | part `afterStep()` | after each optimiser step, outside the tape | `crd` (bank update) |
 * | part `metrics(evaluate)` | once after training: numbers besides the student's accuracy | `dml` (peer accuracies) |
 * | part `artifacts(dir)` | once after training: files kept with the run | `dafl` (image grid) |
 * | part `dispose()` | once, when the run ends or fails | `ft` (frozen paraphraser) |
 * | procedure `stages` | before the main stage, in order, each with its variables and losses | `ab`, `ft`, `takd` |
 * | procedure `networks` | once: whole extra networks, checkpointed with their statistics, disposed by the trainer | `dml`, `ban` |
 * | procedure `players` | every main-stage batch, before the student's step, each with its own optimiser | `dfad`, `afd` |
 * | procedure `student` | once: the network trained and evaluated as the student (disposed by the trainer) | `qat`, `nasevo` |
 * | procedure `deployed` | after each main epoch and at the end: the network evaluated as the student instead of the trained one | `pcl` (temporal mean) |
 * | procedure `syntheticBatch(size, epoch, step)` | every step of a `data: 'none'` method: its inputs | `dafl`, `deepinv` |
 * | procedure `companions(ids, labels, epoch)` | every batch: one partner record per row (or k of them: k row arrays), augmented, served as `io.companion` / `io.companions` | `cskd`, `pcl`, `ddgsd` |
 * | procedure `main` | the main stage's options: training rows, end hook, schedule, gradient cap | `icarl`, `snapshot`, `mhgd` |
 *
 * Stage options (`schedule`, `rows`, `evaluate`, `onEnd`, `gradientCap`; the main stage takes them through
 * `procedure.main`) and the player option `every` are documented on their types. The definition adds `teacherOutputs`, `data`,
 * `smallHyper` and `extraTeachers`; the context gives `createNetwork` (optionally sharing layers with
 * another network) and `probe`. Several augmented views of a batch are companions that are the
 * rows themselves (`sameRows`); `MovingAverage` keeps a temporal-mean copy of variables.
 *
 * A part is anything with state the trainer must look after; a trainable module (a regressor, an
 * embedding head) is already one. Randomness inside a method comes from `ctx.rng` forked per
 * epoch (`rng.fork(epoch)`), so that a resumed run repeats an uninterrupted one.
 */
import type { Rng, tf } from '@kdbench/engine';
import type { FeatureShape, ForwardResult, Model, NamedVariable } from '@kdbench/models';
import type { DatasetId } from '@kdbench/data';


export type Family =
  | 'baseline'
  | 'response'
  | 'feature'
  | 'attention'
  | 'relation'
  | 'graph'
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
  'baseline', 'response', 'feature', 'attention', 'relation', 'graph', 'online', 'self', 'adversarial',
  'multi-teacher', 'cross-modal', 'data-free', 'quantized', 'lifelong', 'nas',
];

/** The label-only baseline every gain is measured against, and the reference distillation method. */
export const BASELINE_METHOD = 'vanilla';
export const REFERENCE_METHOD = 'kd';

/** The survey's three kinds of knowledge (section 2); `none` for the label-only baseline. */
export type KnowledgeType = 'response' | 'feature' | 'relation' | 'none';
/** The survey's distillation schemes (section 3). */
export type Scheme = 'offline' | 'online' | 'self';
/** Whether a method is given a teacher: its context, losses and stages then see it as present. */
export type TeacherNeed = 'required' | 'none';

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

/** The teacher's forward pass as a method sees it: present for methods declaring teacher 'required'. */
type TeacherOf<T extends TeacherNeed, X> = T extends 'required' ? X : X | undefined;

/** Partner records of a batch's rows (one per row), augmented independently of the batch. */
export interface Companion {
  readonly x: tf.Tensor4D;
  readonly labels: tf.Tensor1D;
  readonly ids: Int32Array;
}

/** What a method's loss sees for one batch. All tensors belong to the trainer's tidy scope. */
export interface StepIO<T extends TeacherNeed = TeacherNeed> {
  /** The batch images (augmented, normalised). Reading it in a method with `data: 'none'` throws. */
  readonly x: tf.Tensor4D;
  /** Labels of the batch. Reading them in a method with `data: 'unlabeled'` or `'none'` throws. */
  readonly labels: tf.Tensor1D;
  /** Dataset record ids of the batch rows (CRD's memory bank indexes by them). */
  readonly ids: Int32Array;
  /** The student's forward pass in training mode on `x`, computed on first read inside the tape. */
  readonly student: ForwardResult;
  /** The teacher's forward pass in eval mode, outside the gradient tape. */
  readonly teacher: TeacherOf<T, ForwardResult>;
  /** Extra teachers' forward passes in eval mode (same order as `ctx.teachers`), computed on first read. */
  readonly teachers?: readonly ForwardResult[];
  /** The batch partners returned by `companions` (one per batch row), augmented like the batch; the first set when there are several. */
  readonly companion?: Companion;
  /** Every set of partners `companions` returned, in order (one set when it returned one row array). */
  readonly companions?: readonly Companion[];
  /** 0-based epoch of the current stage and the fraction of the stage done (0..1). */
  readonly epoch: number;
  readonly progress: number;
  /** 0-based step within the epoch and the stage's name. */
  readonly step: number;
  readonly stage: string;
}

export interface Accuracy {
  top1: number;
  top5: number;
}

/** Scores a network on the evaluation split (optionally on some classes only, or through another classifier). */
export interface EvaluateOptions {
  /** Keep only evaluation records of these classes. */
  readonly classes?: readonly number[];
  /** Logits from the input instead of `model.forward(x).logits` (iCaRL's nearest-mean classifier). */
  readonly classify?: (x: tf.Tensor4D) => tf.Tensor2D;
}

export type Evaluate = (model: Model, opts?: EvaluateOptions) => Accuracy;

/** What a stage's `onEnd` may use: evaluation and training-split embeddings of any network. */
export interface StageTools {
  evaluate: Evaluate;
  /** Embeddings ([n, D], eval mode, no augmentation) of training-split rows. */
  embed(model: Model, rows: Int32Array): Float32Array;
}

/**
 * Something with state the trainer looks after. Every member is optional: a trainable module
 * (regressor, embedding head) is a part through its `trainableVariables` and `dispose`.
 */
export interface Part {
  /** Optimised with the student in the main stage; checkpointed as `module/<part>/<i>`. */
  trainableVariables?(): tf.Variable[];
  /** Non-trainable state (memory banks, counters), checkpointed as `buffer/<name>`, never optimised. */
  buffers?(): Record<string, tf.Variable>;
  /** Before each epoch of every stage. */
  onEpochStart?(epoch: number): void;
  /** After each optimiser step, outside the tape (memory-bank updates kept by `losses`). */
  afterStep?(): void;
  /** Numbers reported besides the student's accuracy (peers, generations, model size), after training. */
  metrics?(evaluate: Evaluate): Record<string, number>;
  /** Files the run keeps besides its row, written into `dir` after training; their names relative to `dir`. */
  artifacts?(dir: string): string[];
  /** Frees what the part holds; called once when the run ends, also when it fails. */
  dispose?(): void;
}

export interface TrainingStage<T extends TeacherNeed = TeacherNeed> {
  readonly name: string;
  readonly epochs: number;
  /** Variables this stage optimises (e.g. only the paraphraser, or student + connectors). */
  variables(): tf.Variable[];
  losses(io: StepIO<T>): LossTerms;
  /**
   * The stage's learning rate: `true` follows the protocol's schedule over the stage's epochs, a
   * function gives the rate at a 0-based epoch (snapshot distillation's cycles); default constant.
   */
  readonly schedule?: boolean | ((base: number, epoch: number, epochs: number) => number);
  /** Train on these rows of the training split only (read when the stage starts). */
  rows?(): Int32Array;
  /** A network to evaluate after each epoch of this stage (its accuracy goes into the history). */
  readonly evaluate?: Model;
  /** Called after the stage's last epoch (exemplar selection, freezing a generation, ...). */
  onEnd?(tools: StageTools): void;
  /** One loss term's gradient capped by the others' on every variable (an authors' optimiser: MHGD's). */
  readonly gradientCap?: GradientCap;
}

/**
 * A loss term whose gradient some authors' optimisers cap per variable instead of adding it as is
 * (Lee & Song's MHGD code): on each variable, the term's gradient g_c is clipped to `factor(epoch)`
 * times the norm of the gradient g_o of the stage's other terms on that variable, then added,
 *   g = g_o + g_c * min(1, factor * |g_o| / |g_c|).
 * The trainer takes two gradient passes per step for it: the other terms, then the capped term with
 * the student's batch-norm running statistics left as the first pass set them (the same batch, the
 * same values); a method's own modules run twice.
 */
export interface GradientCap {
  /** The capped loss term (a key of the stage's `losses`). */
  readonly term: string;
  /** The cap's multiplier at a 0-based epoch of the stage (MHGD: a sigmoid warm-up). */
  factor(epoch: number): number;
}

/** Optimiser of a player (the student always uses the protocol's SGD). */
export type OptimizerSpec =
  | { kind: 'sgd'; lr: number; momentum: number; weightDecay: number; schedule?: boolean }
  | { kind: 'adam'; lr: number; beta1: number; beta2: number; weightDecay?: number; schedule?: boolean };

/**
 * An optimisation player besides the student: before each student step, each player takes one
 * step minimising its own losses over its own variables with its own optimiser; with `every` = k
 * it plays only on every k-th batch of an epoch (k student steps per player step, e.g. DFAD's 5).
 * Its loss terms are logged as `<name>/<term>`.
 */
export interface Player<T extends TeacherNeed = TeacherNeed> {
  readonly name: string;
  readonly optimizer: OptimizerSpec;
  /** Play on batches whose index in the epoch is a multiple of this (default 1: every batch). */
  readonly every?: number;
  variables(): tf.Variable[];
  losses(io: StepIO<T>): LossTerms;
}

export interface NetworkSlot {
  readonly model: Model;
  /** Train this network's weights in the main stage together with the student (DML peers). */
  readonly trainInMain: boolean;
}

/** The main stage's own options (the last task of an incremental sequence, a cyclic schedule). */
export type MainStage = Pick<TrainingStage, 'rows' | 'onEnd' | 'schedule' | 'gradientCap'>;

/** How a method trains when it is more than losses on one student: stages, networks, players, ... */
export interface Procedure<T extends TeacherNeed = TeacherNeed> {
  /** Stages run before the main stage, in order. */
  readonly stages?: TrainingStage<T>[];
  /** Whole extra networks by stable name: checkpointed with all their variables, disposed by the trainer. */
  readonly networks?: Record<string, NetworkSlot>;
  readonly players?: Player<T>[];
  /** The network trained in the main stage and evaluated as the student (default `ctx.student`); disposed by the trainer. */
  readonly student?: Model;
  /**
   * The network evaluated as the student (best/last accuracy) when it is not the trained one, e.g.
   * a temporal-mean copy of it (PCL). Declare it in `networks` too, so that it is checkpointed and disposed.
   */
  readonly deployed?: Model;
  /** For `data: 'none'`: the input batch of a step, generated outside the gradient tape. */
  syntheticBatch?(size: number, epoch: number, step: number): tf.Tensor4D;
  /**
   * Split rows (indices into ctx.trainIds) of one partner per batch row, served augmented as
   * `io.companion`; or several such arrays, served in order as `io.companions` (a row's own row
   * gives another augmented view of it: `sameRows`).
   */
  companions?(ids: Int32Array, labels: Int32Array, epoch: number): Int32Array | readonly Int32Array[];
  readonly main?: MainStage;
}

export interface MethodInstance<T extends TeacherNeed = TeacherNeed> {
  losses(io: StepIO<T>): LossTerms;
  /** The method's parts by stable name (checkpoint names derive from it). */
  readonly parts?: Record<string, Part>;
  readonly procedure?: Procedure<T>;
}

export interface MethodContext<H extends Hyper = Hyper, T extends TeacherNeed = TeacherNeed> {
  readonly hp: H;
  /** The run's dataset (normalisation constants, class structure). */
  readonly dataset: DatasetId;
  readonly numClasses: number;
  readonly student: Model;
  readonly teacher: TeacherOf<T, Model>;
  readonly studentShapes: FeatureShape[];
  readonly teacherShapes: TeacherOf<T, FeatureShape[]>;
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
   * run's seed and `name`, so a resumed run rebuilds the same network. Declare it in the
   * procedure's `networks` (or as its `student`): the trainer disposes it. `shared`: variables of
   * another network it reuses by name and shape instead of creating them (layers shared between
   * networks; the trainer optimises and checkpoints each variable once).
   */
  createNetwork(name: string, opts?: { model?: string; widthFactor?: number; numClasses?: number; shared?: readonly NamedVariable[] }): Model;
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

export interface MethodDefinition<H extends Hyper = Hyper, T extends TeacherNeed = TeacherNeed> {
  /** Short lowercase paper name: `kd`, `dkd`, `fitnet`, ... */
  readonly id: string;
  readonly title: string;
  readonly paper: PaperRef | null;
  readonly family: Family;
  readonly knowledge: KnowledgeType;
  readonly scheme: Scheme;
  readonly teacher: T;
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
   * Raised by one when a fix changes what the method computes under unchanged hyperparameters
   * (absent: 0). A revision above 0 enters the run id and the row's details, so runs recorded
   * before the fix are run again by a resumed suite and shown apart by the report.
   */
  readonly revision?: number;
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
  create(ctx: MethodContext<H, T>): MethodInstance<T>;
}

/** Identity helper that keeps the literal hyperparameter and teacher types of a definition. */
export function defineMethod<H extends Hyper, T extends TeacherNeed>(def: MethodDefinition<H, T>): MethodDefinition<H, T> {
  return def;
}

/** A trainable module (regressor, embedding head): a part with trainable variables it frees itself. */
export interface TrainableModule extends Part {
  trainableVariables(): tf.Variable[];
  dispose(): void;
}
