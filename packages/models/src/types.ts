import type { tf } from '@kdbench/engine';
import type { ForwardHooks } from './layers/hooks.js';
import type { Scope } from './layers/store.js';
export type { ForwardHooks, HookedLayer } from './layers/hooks.js';

/** Output of one stage of a network (or of its stem), before and after the final activation. */
export interface StageFeature {
  readonly name: string;
  /** Before the stage's last ReLU (what pre-activation methods such as AB and OFD tap). */
  readonly pre: tf.Tensor4D;
  /** After it (what most feature methods tap). */
  readonly post: tf.Tensor4D;
}

export interface ForwardResult {
  readonly logits: tf.Tensor2D;
  /** [stem, stage1, stage2, ...]: the CRD benchmark's feature list without the pooled vector. */
  readonly features: StageFeature[];
  /** The globally pooled, flattened vector fed to the classifier ([B, D]). */
  readonly embedding: tf.Tensor2D;
}

/** The pooled vector and the logits of a network run from an intermediate feature (Model.forwardFrom). */
export interface HeadOutput {
  readonly logits: tf.Tensor2D;
  readonly embedding: tf.Tensor2D;
}

/** A copy of a network's last stage and head (Model.copyLastStage), fed the second-to-last feature's `post`. */
export interface LastStageCopy {
  apply(h: tf.Tensor4D, training: boolean): HeadOutput;
}

/** A batch norm's scale (gamma) and shift (beta). */
export interface NormParams {
  readonly gamma: tf.Variable;
  readonly beta: tf.Variable;
}

export interface FeatureShape {
  readonly name: string;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
}

export interface NamedVariable {
  readonly name: string;
  readonly variable: tf.Variable;
  /** false for batch-norm running statistics. */
  readonly trainable: boolean;
}

export interface ForwardOptions {
  readonly training: boolean;
  /** Layer hooks active during this forward pass (quantisation, batch-norm statistics). */
  readonly hooks?: ForwardHooks;
}

export interface ModelOptions {
  numClasses: number;
  /** Seeds the weight initialisation. */
  seed: number;
  /**
   * Multiplies every channel count (quick protocols use narrower nets); 1 is the published net.
   * A model id's own multiplier (`resnet20@0.5`) applies on top of it.
   */
  widthFactor?: number;
}

export interface Model {
  /** The id given to createModel, with its `@multiplier` if any. */
  readonly id: string;
  readonly options: Readonly<Required<ModelOptions>>;
  /** training=true uses batch statistics and updates batch-norm running statistics. */
  forward(x: tf.Tensor4D, opts: ForwardOptions): ForwardResult;
  trainableVariables(): tf.Variable[];
  /** The classifier's variables (the linear layer from the embedding to the logits); the rest is the feature extractor. */
  classifierVariables(): tf.Variable[];
  /** Every variable with a stable name, trainable or not: what a weight file holds. */
  namedVariables(): NamedVariable[];
  /**
   * Runs the network from feature `from` (an index into `features`, 0 = stem): `input` stands for
   * `features[from].post`; the later stages, pooling and classifier follow, with the same ops as
   * `forward`. Present for the nets built as a stem and stages of blocks (CIFAR and ImageNet-style
   * ResNets, plain CNNs, ResNeXts, MobileNet v1, ShuffleNetV1). JointRD runs a student's features
   * through the teacher's later stages with it.
   */
  forwardFrom?(from: number, input: tf.Tensor4D, opts: ForwardOptions): HeadOutput;
  /**
   * A new, separately initialised copy of the network's last stage, pooling and classifier, its
   * variables created in `scope` (a method's own module): the branches of multi-branch online
   * methods (ONE, PCL). Its input is the second-to-last feature's `post`. Present for the CIFAR
   * ResNets, the VGGs and DenseNet.
   */
  copyLastStage?(scope: Scope, numClasses: number): LastStageCopy;
  /**
   * Per feature ([stem, stage1, ...]): the batch norm whose output (plus the shortcut, in a residual
   * block) reaches that feature's last ReLU, or null where none does. Present for the ResNets,
   * plain CNNs and WRNs. Overhaul-style methods (MGD) read the teacher's margins from them.
   */
  preReluNorms?(): (NormParams | null)[];
  /** Number of trainable parameters. */
  paramCount(): number;
  /** Multiply-accumulate operations of one forward pass of one 32x32 image. */
  flops(): number;
  /** Shapes of `features` (and of the embedding, as a 1x1 feature named 'embedding') for a 32x32 input. */
  featureShapes(): FeatureShape[];
  dispose(): void;
}

/** A count printed in a paper or a reference repository, for a head with `classes` outputs. */
export interface PublishedCount {
  readonly count: number;
  readonly classes: number;
  readonly source: string;
}

export interface ModelSpec {
  readonly id: string;
  readonly family:
    | 'resnet' | 'imagenet-resnet' | 'plaincnn' | 'resnext' | 'wrn' | 'densenet' | 'vgg' | 'alexnet'
    | 'mobilenetv1' | 'mobilenetv2' | 'shufflenetv1' | 'shufflenetv2';
  readonly description: string;
  /** Published trainable-parameter count, where a source gives one. */
  readonly publishedParams?: PublishedCount;
  /** Published multiply-accumulates per 32x32 image, where a source gives them. */
  readonly publishedMacs?: PublishedCount;
}
