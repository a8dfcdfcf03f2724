/**
 * MobileNet (Howard et al., "MobileNets: Efficient Convolutional Neural Networks for Mobile
 * Vision Applications", 2017) in the CIFAR form of the online-distillation papers of the survey's
 * tables: DML (Zhang et al., CVPR 2018) and DCM (Yao & Sun, ECCV 2020; sundw2014/DCM
 * wrn_mobi/mobilenet.py, whose MobileNet baseline, 73.70% on CIFAR-100, is the survey's row).
 * A 3x3 stride-1 conv-BN-ReLU stem with 32 channels, then 13 depthwise-separable blocks (3x3
 * depthwise conv - BN - ReLU - 1x1 conv - BN - ReLU) with outputs
 * 64, 128, 128, 256, 256 at 32x32 | 512 (stride 2), 512 x5 at 16x16 | 1024 (stride 2), 1024 at 8x8,
 * global average pooling and a linear head on 1024. kuangliu/pytorch-cifar's MobileNet has the
 * same layers (same parameters) with two more stride-2 blocks. No custom init: PyTorch defaults.
 *
 * Features: stem pre = BN output, post = ReLU; stage i (the three resolution groups above, DCM's
 * layer1-3) pre = the last block's second BN output, post = after its ReLU.
 */
import type { tf } from '@kdbench/engine';
import { BatchNorm, Conv2d, Linear, relu, type Scope, type Size2d } from '../layers/index.js';
import { INPUT_SIZE, buildStages, scaleWidth, stagedPasses, type BuildContext, type BuiltNet, type NetBuilder, type PreactBlock } from './base.js';

export class SeparableBlock implements PreactBlock {
  private readonly dw: Conv2d;
  private readonly bn1: BatchNorm;
  private readonly pw: Conv2d;
  private readonly bn2: BatchNorm;
  readonly outSize: Size2d;

  constructor(scope: Scope, inPlanes: number, outPlanes: number, stride: number, inSize: Size2d) {
    this.dw = new Conv2d(scope.child('conv1'), { inChannels: inPlanes, outChannels: inPlanes, kernelSize: 3, stride, padding: 1, groups: inPlanes, init: 'torch_default' }, inSize);
    this.bn1 = new BatchNorm(scope.child('bn1'), inPlanes);
    this.pw = new Conv2d(scope.child('conv2'), { inChannels: inPlanes, outChannels: outPlanes, kernelSize: 1, init: 'torch_default' }, this.dw.outSize);
    this.bn2 = new BatchNorm(scope.child('bn2'), outPlanes);
    this.outSize = this.pw.outSize;
  }

  /** Returns the block output and (unless `withPreact` is false) bn2's output before the last ReLU. */
  apply(x: tf.Tensor4D, training: boolean, withPreact = true): { out: tf.Tensor4D; preact?: tf.Tensor4D } {
    const h = this.pw.apply(this.bn1.apply(this.dw.apply(x), training, { relu: true }));
    if (!withPreact) return { out: this.bn2.apply(h, training, { relu: true }) };
    const preact = this.bn2.apply(h, training);
    return { out: relu(preact), preact };
  }
}

/** [output channels, stride] per block, grouped by stage. */
const STAGES: [number, number][][] = [
  [[64, 1], [128, 1], [128, 1], [256, 1], [256, 1]],
  [[512, 2], [512, 1], [512, 1], [512, 1], [512, 1], [512, 1]],
  [[1024, 2], [1024, 1]],
];

const buildMobileNetV1: NetBuilder = (ctx: BuildContext): BuiltNet => {
  const { scope } = ctx;
  const stem = scaleWidth(32, ctx.widthFactor);
  const conv1 = new Conv2d(scope.child('conv1'), { inChannels: 3, outChannels: stem, kernelSize: 3, padding: 1, init: 'torch_default' }, INPUT_SIZE);
  const bn1 = new BatchNorm(scope.child('bn1'), stem);
  const { stages, shapes, planes: inPlanes } = buildStages(stem, conv1.outSize, STAGES.map((cfg) => cfg.length), (s, b, inPlanes, size) => {
    const [channels, stride] = STAGES[s]![b]!;
    const out = scaleWidth(channels, ctx.widthFactor);
    return { block: new SeparableBlock(scope.child(`layer${s + 1}`).child(b), inPlanes, out, stride, size), out };
  });
  const linear = new Linear(scope.child('linear'), inPlanes, ctx.numClasses);
  return {
    featureShapes: shapes,
    embeddingDim: inPlanes,
    classifier: linear,
    ...stagedPasses({ conv: conv1, bn: bn1 }, stages, linear),
  };
};

export const mobilenetv1Builders: Record<string, NetBuilder> = {
  mobilenetv1: buildMobileNetV1,
};
