/**
 * What every architecture file provides (a NetBuilder) and the Model wrapper around it:
 * option validation, width scaling, the internal tidy around forward, and parameter/MAC/shape
 * accounting. Stage-feature semantics follow the CRD benchmark (Tian et al., ICLR 2020;
 * RepDistiller's `is_feat` / `preact` feature lists).
 */
import { tf } from '@kdbench/engine';
import type { FeatureShape, ForwardOptions, ForwardResult, HeadOutput, LastStageCopy, Model, ModelOptions, NamedVariable, NormParams } from '../types.js';
import { withHooks } from '../layers/hooks.js';
import { globalAvgPool, relu, ParamStore, Scope, type BatchNorm, type Conv2d, type Linear, type Size2d } from '../layers/index.js';
import type { StageFeature } from '../types.js';

export interface BuildContext {
  readonly scope: Scope;
  readonly numClasses: number;
  readonly widthFactor: number;
}

export interface BuiltNet {
  forward(x: tf.Tensor4D, training: boolean): ForwardResult;
  /** The stages after feature `from` ([stem, stage1, ...] index), pooling and head, on `h` standing for features[from].post. */
  forwardFrom?(from: number, h: tf.Tensor4D, training: boolean): HeadOutput;
  /** Builds a fresh copy of the last stage, pooling and head in `scope` (see Model.copyLastStage). */
  lastStage?(scope: Scope, numClasses: number): LastStageCopy;
  /** Per feature: the batch norm whose output (plus a shortcut, in residual blocks) reaches the feature's last ReLU, or null. */
  readonly preReluNorms?: (BatchNorm | null)[];
  /** Shapes of the stage features for a 32x32 input (without the embedding). */
  readonly featureShapes: FeatureShape[];
  readonly embeddingDim: number;
  /** The linear layer from the embedding to the logits. */
  readonly classifier: Linear;
}

export type NetBuilder = (ctx: BuildContext) => BuiltNet;

/** A block that reports its output and, when asked, its output before the final ReLU. */
export interface PreactBlock {
  /** `withPreact` false lets the block fuse its last sum and ReLU into one kernel (no preact returned). */
  apply(x: tf.Tensor4D, training: boolean, withPreact?: boolean): { out: tf.Tensor4D; preact?: tf.Tensor4D };
}

/**
 * Forward pass shared by the nets built as conv-bn-relu stem, stages of PreactBlocks, global
 * average pooling and a linear classifier (CIFAR ResNets, ShuffleNetV1): features are the stem and
 * every stage's last block, each with its pre-activation.
 */
export function stagedForward(
  x: tf.Tensor4D, training: boolean, stem: { conv: Conv2d; bn: BatchNorm }, stages: PreactBlock[][], head: Linear,
): ForwardResult {
  const stemPre = stem.bn.apply(stem.conv.apply(x), training);
  let h = relu(stemPre);
  const features: StageFeature[] = [{ name: 'stem', pre: stemPre, post: h }];
  stages.forEach((blocks, s) => {
    let preact = h;
    blocks.forEach((block, i) => {
      const last = i === blocks.length - 1;
      const r = block.apply(h, training, last);
      h = r.out;
      if (last) preact = r.preact!;
    });
    features.push({ name: `stage${s + 1}`, pre: preact, post: h });
  });
  const embedding = globalAvgPool(h);
  return { logits: head.apply(embedding), features, embedding };
}

/**
 * Both passes of a net built as a stem, stages of PreactBlocks and a linear head: `forward` and
 * `forwardFrom`, which runs the stages after feature `from` (0 = stem) on `h` with the same ops.
 */
export function stagedPasses(stem: { conv: Conv2d; bn: BatchNorm }, stages: PreactBlock[][], head: Linear): Pick<Required<BuiltNet>, 'forward' | 'forwardFrom'> {
  return {
    forward: (x, training) => stagedForward(x, training, stem, stages, head),
    forwardFrom: (from, h, training) => blocksToHead(stages.slice(from).flat(), head, h, training),
  };
}

/** `blocks` in order on `h` (each fusing its last sum and ReLU: no preact is needed), then global average pooling and `head`. */
export function blocksToHead(blocks: readonly PreactBlock[], head: Linear, h: tf.Tensor4D, training: boolean): HeadOutput {
  for (const block of blocks) h = block.apply(h, training, false).out;
  const embedding = globalAvgPool(h);
  return { logits: head.apply(embedding), embedding };
}

/** CIFAR input size every architecture is specified for. */
export const INPUT_SIZE: Size2d = { h: 32, w: 32 };

/**
 * Scales a published channel count by the width factor: unchanged at 1, otherwise rounded to
 * the nearest multiple of `multiple` (at least one multiple).
 */
export function scaleWidth(channels: number, widthFactor: number, multiple = 1): number {
  if (widthFactor === 1) return channels;
  return Math.max(multiple, Math.round((channels * widthFactor) / multiple) * multiple);
}

export function featureShape(name: string, channels: number, size: Size2d): FeatureShape {
  return { name, channels, height: size.h, width: size.w };
}

/**
 * The stages of blocks after a stem of `stemWidth` channels at `stemSize`, built in order: block b
 * of stage s is `make(s, b, inPlanes, size)`, which says its output width. Returns the stages, the
 * feature shapes (stem, then every stage's last block) and the final width.
 */
export function buildStages<B extends { readonly outSize: Size2d }>(
  stemWidth: number,
  stemSize: Size2d,
  blocksPerStage: readonly number[],
  make: (s: number, b: number, inPlanes: number, size: Size2d) => { block: B; out: number },
): { stages: B[][]; shapes: FeatureShape[]; planes: number } {
  const shapes = [featureShape('stem', stemWidth, stemSize)];
  let planes = stemWidth;
  let size = stemSize;
  const stages = blocksPerStage.map((count, s) => {
    const blocks = Array.from({ length: count }, (_, b) => {
      const { block, out } = make(s, b, planes, size);
      planes = out;
      size = block.outSize;
      return block;
    });
    shapes.push(featureShape(`stage${s + 1}`, planes, size));
    return blocks;
  });
  return { stages, shapes, planes };
}

/** The most a width factor (or a model id's multiplier, or their product) may be. */
export const MAX_WIDTH = 4;

export function validateOptions(id: string, opts: ModelOptions): Required<ModelOptions> {
  if (opts == null || typeof opts !== 'object') throw new Error(`createModel('${id}'): options are required`);
  const { numClasses, seed } = opts;
  const widthFactor = opts.widthFactor ?? 1;
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new Error(`createModel('${id}'): numClasses must be a positive integer, got ${numClasses}`);
  }
  if (typeof seed !== 'number' || !Number.isFinite(seed)) {
    throw new Error(`createModel('${id}'): seed must be a finite number, got ${seed}`);
  }
  if (typeof widthFactor !== 'number' || !Number.isFinite(widthFactor) || widthFactor <= 0 || widthFactor > MAX_WIDTH) {
    throw new Error(`createModel('${id}'): widthFactor must be a number in (0, ${MAX_WIDTH}], got ${widthFactor}`);
  }
  return { numClasses, seed, widthFactor };
}

export class ZooModel implements Model {
  private readonly net: BuiltNet;
  private readonly store: ParamStore;
  private disposed = false;
  /** Present when the architecture runs from an intermediate feature (see Model.forwardFrom). */
  readonly forwardFrom?: (from: number, input: tf.Tensor4D, opts: ForwardOptions) => HeadOutput;
  /** Present when the architecture can copy its last stage (see Model.copyLastStage). */
  readonly copyLastStage?: (scope: Scope, numClasses: number) => LastStageCopy;
  /** Present when the architecture names its pre-ReLU batch norms (see Model.preReluNorms). */
  readonly preReluNorms?: () => (NormParams | null)[];

  /**
   * `buildWidth`: the width the net is built at, options.widthFactor times the id's multiplier.
   * `shared`: variables of another network reused by name (see createModel); each must be used.
   */
  constructor(
    readonly id: string,
    readonly options: Readonly<Required<ModelOptions>>,
    builder: NetBuilder,
    buildWidth: number = options.widthFactor,
    shared: readonly NamedVariable[] = [],
  ) {
    this.store = new ParamStore(options.seed, false, new Map(shared.map((nv) => [nv.name, nv.variable])));
    try {
      this.net = builder({
        scope: new Scope(this.store),
        numClasses: options.numClasses,
        widthFactor: buildWidth,
      });
      const unused = this.store.unusedShared();
      if (unused.length > 0) throw new Error(`createModel('${id}'): shared variables ${unused.join(', ')} are not variables of this network`);
    } catch (e) {
      this.store.dispose();
      throw e;
    }
    const { forwardFrom, preReluNorms, lastStage } = this.net;
    if (lastStage) this.copyLastStage = (scope, numClasses) => lastStage(scope, numClasses);
    if (forwardFrom) this.forwardFrom = (from, input, opts) => this.runFrom(forwardFrom, from, input, opts);
    if (preReluNorms) this.preReluNorms = () => preReluNorms.map((bn) => (bn ? { gamma: bn.gamma, beta: bn.beta } : null));
  }

  private runFrom(run: NonNullable<BuiltNet['forwardFrom']>, from: number, input: tf.Tensor4D, opts: ForwardOptions): HeadOutput {
    if (this.disposed) throw new Error(`${this.id}: forwardFrom on a disposed model`);
    const shapes = this.net.featureShapes;
    if (!Number.isInteger(from) || from < 0 || from >= shapes.length) {
      throw new Error(`${this.id}: forwardFrom needs a feature index in 0..${shapes.length - 1} (${shapes.map((s) => s.name).join(', ')}), got ${from}`);
    }
    if (input.rank !== 4 || input.shape[3] !== shapes[from]!.channels) {
      throw new Error(`${this.id}: forwardFrom(${from}) takes its '${shapes[from]!.name}' feature [B, H, W, ${shapes[from]!.channels}], got [${input.shape}]`);
    }
    const training = opts?.training === true;
    return tf.tidy(() => withHooks(opts.hooks, () => run(from, input, training)) as unknown as tf.TensorContainer) as unknown as HeadOutput;
  }

  forward(x: tf.Tensor4D, opts: ForwardOptions): ForwardResult {
    if (this.disposed) throw new Error(`${this.id}: forward on a disposed model`);
    if (x.rank !== 4 || x.shape[3] !== 3) {
      throw new Error(`${this.id}: input must be NHWC [B, H, W, 3], got [${x.shape}]`);
    }
    const training = opts?.training === true;
    return tf.tidy(
      () => withHooks(opts.hooks, () => this.net.forward(x, training)) as unknown as tf.TensorContainer,
    ) as unknown as ForwardResult;
  }

  trainableVariables(): tf.Variable[] {
    return this.store.entries.filter((e) => e.trainable).map((e) => e.variable);
  }

  namedVariables(): NamedVariable[] {
    return [...this.store.entries];
  }

  classifierVariables(): tf.Variable[] {
    return [this.net.classifier.weight, this.net.classifier.bias];
  }

  paramCount(): number {
    return this.store.trainableParams;
  }

  flops(): number {
    return this.store.macs;
  }

  featureShapes(): FeatureShape[] {
    return withEmbedding(this.net);
  }

  dispose(): void {
    this.store.dispose();
    this.disposed = true;
  }
}

function withEmbedding(net: BuiltNet): FeatureShape[] {
  return [...net.featureShapes, { name: 'embedding', channels: net.embeddingDim, height: 1, width: 1 }];
}

/** What a net costs, computed without its weights. */
export interface ModelCounts {
  /** Trainable parameters (Model.paramCount). */
  readonly params: number;
  /** Multiply-accumulates per 32x32 image (Model.flops). */
  readonly macs: number;
  /** Model.featureShapes. */
  readonly featureShapes: FeatureShape[];
}

/** Builds a net on a measuring store (no values drawn or allocated) and returns its counts. */
export function measureNet(options: Readonly<Required<ModelOptions>>, builder: NetBuilder, buildWidth: number): ModelCounts {
  const store = new ParamStore(options.seed, true);
  try {
    const net = builder({ scope: new Scope(store), numClasses: options.numClasses, widthFactor: buildWidth });
    return { params: store.trainableParams, macs: store.macs, featureShapes: withEmbedding(net) };
  } finally {
    store.dispose();
  }
}
