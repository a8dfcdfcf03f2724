/**
 * ShuffleNet V1 (Zhang et al., "ShuffleNet: An Extremely Efficient Convolutional Neural
 * Network for Mobile Devices", CVPR 2018) in the CIFAR form of the CRD benchmark (Tian et al.,
 * ICLR 2020; RepDistiller models/ShuffleNetv1.py, `ShuffleV1`): 1x1 conv-BN-ReLU stem to 24
 * channels at 32x32, stages of 4/8/4 bottlenecks reaching 240/480/960 channels with 3 groups.
 * A bottleneck is 1x1 group conv (1 group in the very first block) - BN - ReLU - channel
 * shuffle - 3x3 depthwise conv (stride 2 in a stage's first block) - BN - ReLU - 1x1 group conv
 * - BN, joined to the input by addition, or, in a stage's first block, by concatenation with a
 * 3x3/2 average pool of the input; then ReLU. Global average pooling and a linear head.
 * No custom init: PyTorch defaults for convs and Linear.
 *
 * Features (RepDistiller): stem pre = BN output, post = ReLU; stage pre = the last block's sum
 * before its ReLU, post = after it.
 *
 * widthFactor != 1 rounds the stem and stage widths to multiples of 12 (4 x 3 groups) so the
 * bottleneck width (out/4) and the group convs stay valid.
 */
import { tf } from '@kdbench/engine';
import {
  BatchNorm,
  Conv2d,
  Linear,
  avgPool3s2p1,
  channelShuffle,
  relu,
  type Scope,
  type Size2d,
} from '../layers/index.js';
import { INPUT_SIZE, buildStages, scaleWidth, stagedPasses, type BuildContext, type BuiltNet, type NetBuilder } from './base.js';

class Bottleneck {
  private readonly conv1: Conv2d;
  private readonly bn1: BatchNorm;
  private readonly conv2: Conv2d;
  private readonly bn2: BatchNorm;
  private readonly conv3: Conv2d;
  private readonly bn3: BatchNorm;
  readonly outSize: Size2d;

  constructor(
    scope: Scope,
    inPlanes: number,
    outPlanes: number,
    private readonly stride: number,
    groups: number,
    private readonly firstGroups: number,
    inSize: Size2d,
  ) {
    const mid = Math.trunc(outPlanes / 4);
    const opts = { init: 'torch_default' } as const;
    this.conv1 = new Conv2d(scope.child('conv1'), { ...opts, inChannels: inPlanes, outChannels: mid, kernelSize: 1, groups: firstGroups }, inSize);
    this.bn1 = new BatchNorm(scope.child('bn1'), mid);
    this.conv2 = new Conv2d(
      scope.child('conv2'),
      { ...opts, inChannels: mid, outChannels: mid, kernelSize: 3, stride, padding: 1, groups: mid },
      this.conv1.outSize,
    );
    this.bn2 = new BatchNorm(scope.child('bn2'), mid);
    this.conv3 = new Conv2d(scope.child('conv3'), { ...opts, inChannels: mid, outChannels: outPlanes, kernelSize: 1, groups }, this.conv2.outSize);
    this.bn3 = new BatchNorm(scope.child('bn3'), outPlanes);
    this.outSize = this.conv3.outSize;
  }

  /**
   * Without `withPreact`, the last BN runs fused with the residual sum and ReLU; in a down-sampling
   * block the ReLU moves before the concatenation, exact because the pooled input is a ReLU output.
   */
  apply(x: tf.Tensor4D, training: boolean, withPreact = true): { out: tf.Tensor4D; preact?: tf.Tensor4D } {
    let out = this.bn1.apply(this.conv1.apply(x), training, { relu: true });
    out = channelShuffle(out, this.firstGroups);
    out = this.bn2.apply(this.conv2.apply(out), training, { relu: true });
    const h = this.conv3.apply(out);
    if (!withPreact) {
      if (this.stride === 2) return { out: tf.concat([this.bn3.apply(h, training, { relu: true }), avgPool3s2p1(x)], 3) };
      return { out: this.bn3.apply(h, training, { residual: x, relu: true }) };
    }
    out = this.bn3.apply(h, training);
    const preact: tf.Tensor4D = this.stride === 2 ? tf.concat([out, avgPool3s2p1(x)], 3) : tf.add(out, x);
    return { out: relu(preact), preact };
  }
}

function buildShuffleNetV1(outPlanes: [number, number, number], numBlocks: [number, number, number], groups: number): NetBuilder {
  return (ctx: BuildContext): BuiltNet => {
    const { scope } = ctx;
    const unit = 4 * groups;
    const stemC = scaleWidth(24, ctx.widthFactor, unit);
    const widths: number[] = [];
    let prev = stemC;
    for (const c of outPlanes) {
      prev = Math.max(scaleWidth(c, ctx.widthFactor, unit), prev + unit);
      widths.push(prev);
    }
    const opts = { init: 'torch_default' } as const;
    const conv1 = new Conv2d(scope.child('conv1'), { ...opts, inChannels: 3, outChannels: stemC, kernelSize: 1 }, INPUT_SIZE);
    const bn1 = new BatchNorm(scope.child('bn1'), stemC);
    const { stages, shapes, planes: inPlanes } = buildStages(stemC, conv1.outSize, numBlocks, (s, i, inPlanes, size) => {
      const [w, first] = [widths[s]!, i === 0];
      const block = new Bottleneck(scope.child(`layer${s + 1}`).child(i), inPlanes, first ? w - inPlanes : w, first ? 2 : 1, groups, s === 0 && first ? 1 : groups, size);
      return { block, out: w };
    });
    const linear = new Linear(scope.child('linear'), inPlanes, ctx.numClasses);

    return {
      featureShapes: shapes,
      embeddingDim: inPlanes,
      classifier: linear,
      ...stagedPasses({ conv: conv1, bn: bn1 }, stages, linear),
    };
  };
}

export const shufflenetv1Builders: Record<string, NetBuilder> = {
  shufflenetv1: buildShuffleNetV1([240, 480, 960], [4, 8, 4], 3),
};
