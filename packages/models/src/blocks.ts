/**
 * Building blocks for methods that grow extra parts out of a zoo network (online and
 * self-distillation: ONE's branches, BYOT's heads), and a way to evaluate such a part as a Model.
 *
 * - BasicBlock: the zoo ResNets' own basic block (He et al., CVPR 2016: conv3x3-BN-ReLU-conv3x3-BN,
 *   1x1-conv + BN projection shortcut when the shape changes, ReLU after the sum), so a method can
 *   add a copy of a ResNet stage; PreActBlock and SeparableBlock are the WRN's pre-activation block
 *   and MobileNet's depthwise-separable block, for stages grown out of those nets (DCM's heads).
 * - resnetBlocksPerStage: blocks per stage of a three-stage CIFAR ResNet id (resnet8 -> 1, resnet32 -> 5).
 * - viewModel: a Model whose forward is a function of another network's forward (an ensemble of
 *   branches, an auxiliary classifier); it owns no variables and is used for evaluation.
 */
import { tf } from '@kdbench/engine';
import type { FeatureShape, ForwardOptions, ForwardResult, Model, ModelOptions, NamedVariable } from './types.js';

import { resnetBuilders } from './models/resnet.js';

export { BasicBlock } from './models/resnet.js';
export { PreActBlock } from './models/wrn.js';
export { SeparableBlock } from './models/mobilenetv1.js';

/**
 * Basic blocks per stage of a three-stage CIFAR ResNet (`resnet<6n+2>` or `resnet<6n+2>x4`, with or
 * without a width multiplier), or null for other ids (including the four-stage resnet50, resnet152).
 */
export function resnetBlocksPerStage(id: string): number | null {
  const base = id.split('@')[0]!;
  const m = /^resnet(\d+)(x4)?$/.exec(base);
  if (!m || !(base in resnetBuilders)) return null;
  return (Number(m[1]) - 2) / 6;
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
    classifierVariables: () => [],
    namedVariables: (): NamedVariable[] => [],
    paramCount: () => 0,
    flops: () => base.flops(),
    featureShapes: (): FeatureShape[] => base.featureShapes(),
    dispose: () => {},
  };
}
