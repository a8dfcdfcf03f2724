/**
 * Building blocks for methods that grow extra parts out of a zoo network (online and
 * self-distillation: ONE's branches, BYOT's heads), and a way to evaluate such a part as a Model.
 *
 * - BasicBlock: the CIFAR ResNet basic block (He et al., CVPR 2016) exactly as the zoo's ResNets
 *   build it (conv3x3-BN-ReLU-conv3x3-BN, 1x1-conv + BN projection shortcut when the shape
 *   changes, ReLU after the sum), so a method can add a copy of a ResNet stage.
 * - resnetBlocksPerStage: blocks per stage of a zoo ResNet id (resnet8 -> 1, resnet32 -> 5).
 * - viewModel: a Model whose forward is a function of another network's forward (an ensemble of
 *   branches, an auxiliary classifier); it owns no variables and is used for evaluation.
 */
import { tf } from '@kdbench/engine';
import { BatchNorm, Conv2d, relu, type Scope, type Size2d } from './layers/index.js';
import type { FeatureShape, ForwardOptions, ForwardResult, Model, ModelOptions, NamedVariable } from './types.js';

export class BasicBlock {
  private readonly conv1: Conv2d;
  private readonly bn1: BatchNorm;
  private readonly conv2: Conv2d;
  private readonly bn2: BatchNorm;
  private readonly downsample: { conv: Conv2d; bn: BatchNorm } | null;
  readonly outSize: Size2d;

  constructor(scope: Scope, inPlanes: number, planes: number, stride: number, inSize: Size2d) {
    this.conv1 = new Conv2d(scope.child('conv1'), { inChannels: inPlanes, outChannels: planes, kernelSize: 3, stride, padding: 1 }, inSize);
    this.bn1 = new BatchNorm(scope.child('bn1'), planes);
    this.conv2 = new Conv2d(scope.child('conv2'), { inChannels: planes, outChannels: planes, kernelSize: 3, padding: 1 }, this.conv1.outSize);
    this.bn2 = new BatchNorm(scope.child('bn2'), planes);
    this.outSize = this.conv2.outSize;
    this.downsample = stride !== 1 || inPlanes !== planes
      ? {
          conv: new Conv2d(scope.child('downsample').child(0), { inChannels: inPlanes, outChannels: planes, kernelSize: 1, stride }, inSize),
          bn: new BatchNorm(scope.child('downsample').child(1), planes),
        }
      : null;
  }

  /** The block output and its pre-ReLU residual sum. */
  apply(x: tf.Tensor4D, training: boolean): { out: tf.Tensor4D; preact: tf.Tensor4D } {
    const h = relu(this.bn1.apply(this.conv1.apply(x), training));
    const residual = this.downsample ? this.downsample.bn.apply(this.downsample.conv.apply(x), training) : x;
    const preact = tf.add(this.bn2.apply(this.conv2.apply(h), training), residual) as tf.Tensor4D;
    return { out: relu(preact), preact };
  }
}

/** Basic blocks per stage of a zoo ResNet (`resnet<6n+2>` or `resnet<6n+2>x4`), or null for other ids. */
export function resnetBlocksPerStage(id: string): number | null {
  const m = /^resnet(\d+)(x4)?$/.exec(id);
  if (!m) return null;
  const depth = Number(m[1]);
  return (depth - 2) % 6 === 0 ? (depth - 2) / 6 : null;
}

/**
 * A Model that evaluates `forward` (e.g. gated branch logits computed from `base`'s features).
 * It declares no variables of its own (its parts are checkpointed by whoever owns them) and its
 * dispose does nothing.
 */
export function viewModel(id: string, base: Model, forward: (x: tf.Tensor4D, opts: ForwardOptions) => ForwardResult): Model {
  return {
    id,
    options: base.options as Readonly<Required<ModelOptions>>,
    forward: (x, opts) => tf.tidy(() => forward(x, opts) as unknown as tf.TensorContainer) as unknown as ForwardResult,
    trainableVariables: () => [],
    namedVariables: (): NamedVariable[] => [],
    paramCount: () => 0,
    flops: () => base.flops(),
    featureShapes: (): FeatureShape[] => base.featureShapes(),
    dispose: () => {},
  };
}
