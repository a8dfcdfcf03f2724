/**
 * CIFAR ResNeXt-29 (Xie et al., "Aggregated Residual Transformations for Deep Neural Networks",
 * CVPR 2017, §5.3) as in prlz77/ResNeXt.pytorch, imported by bearpaw/pytorch-classification
 * models/cifar/resnext.py and by Tf-KD (Yuan et al., CVPR 2020; model/resnext.py,
 * `CifarResNeXt(cardinality=8, depth=29)`): a 3x3 conv-BN-ReLU stem with 64 channels, three
 * stages of (29-2)/9 = 3 bottlenecks with outputs 256/512/1024 at 32/16/8 pixels, each bottleneck
 * 1x1 conv to D = cardinality * out / 4 channels, a 3x3 conv with `cardinality` groups (stride 2 in
 * the first block of stages 2-3), a 1x1 conv back to `out`, and a 1x1-conv + BN projection when
 * the width changes; global average pooling and a linear head on 1024.
 * Convs: Kaiming normal fan_out; Linear: Kaiming normal (fan_in) weight, zero bias (the reference's init).
 *
 * Features: stem pre = BN output, post = ReLU; stage i pre = the last block's sum before its ReLU,
 * post = after it.
 */
import { BatchNorm, Conv2d, Linear } from '../layers/index.js';
import { Bottleneck } from './resnet-imagenet.js';
import { INPUT_SIZE, buildStages, scaleWidth, stagedPasses, type BuildContext, type BuiltNet, type NetBuilder } from './base.js';

const DEPTH = 29;

/** ResNeXt-29 with bottleneck groups of 64 channels (`cardinality`x64d). */
export function buildResNeXt29(cardinality: number): NetBuilder {
  const blocksPerStage = (DEPTH - 2) / 9;
  return (ctx: BuildContext): BuiltNet => {
    const { scope } = ctx;
    const stem = scaleWidth(64, ctx.widthFactor);
    const conv1 = new Conv2d(scope.child('conv1'), { inChannels: 3, outChannels: stem, kernelSize: 3, padding: 1 }, INPUT_SIZE);
    const bn1 = new BatchNorm(scope.child('bn1'), stem);
    const { stages, shapes, planes: inPlanes } = buildStages(stem, conv1.outSize, [blocksPerStage, blocksPerStage, blocksPerStage], (s, b, inPlanes, size) => {
      const out = scaleWidth(256 * 2 ** s, ctx.widthFactor);
      const width = scaleWidth((cardinality * 256 * 2 ** s) / 4, ctx.widthFactor, cardinality);
      return { block: new Bottleneck(scope.child(`stage${s + 1}`).child(b), inPlanes, width, out, b === 0 && s > 0 ? 2 : 1, cardinality, size), out };
    });
    const classifier = new Linear(scope.child('classifier'), inPlanes, ctx.numClasses, { kind: 'normal', std: Math.sqrt(2 / inPlanes) });
    return {
      featureShapes: shapes,
      embeddingDim: inPlanes,
      classifier,
      ...stagedPasses({ conv: conv1, bn: bn1 }, stages, classifier),
    };
  };
}

export const resnextBuilders: Record<string, NetBuilder> = {
  resnext29_8x64d: buildResNeXt29(8),
};
