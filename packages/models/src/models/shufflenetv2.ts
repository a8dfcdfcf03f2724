/**
 * ShuffleNet V2 (Ma et al., "ShuffleNet V2: Practical Guidelines for Efficient CNN
 * Architecture Design", ECCV 2018) in the CIFAR form of the CRD benchmark (Tian et al.,
 * ICLR 2020; RepDistiller models/ShuffleNetv2.py, `ShuffleV2` = net size 1): 1x1 conv-BN-ReLU
 * stem to 24 channels at 32x32 (no max pool), three stages of one down-sampling unit followed
 * by 3/7/3 basic units at 116/232/464 channels, a 1x1 conv to 1024 + BN + ReLU, global average
 * pooling and a linear head. A basic unit splits the channels in half, runs 1x1 conv-BN-ReLU,
 * 3x3 depthwise conv-BN, 1x1 conv-BN-ReLU on the second half, concatenates and shuffles (2
 * groups); the down-sampling unit runs a depthwise/pointwise branch and a pointwise/depthwise/
 * pointwise branch, both stride 2, and concatenates and shuffles.
 * No custom init: PyTorch defaults for convs and Linear.
 *
 * Features (RepDistiller): stem pre = BN output, post = ReLU; stage post = the last unit's
 * shuffled output; stage pre = RepDistiller's preact, the unshuffled concatenation of the
 * untouched half and the last BN output before its ReLU (same channels as post, not shuffled).
 *
 * widthFactor != 1 rounds stage widths to even numbers (the units split channels in half).
 */
import { tf } from '@kdbench/engine';
import {
  BatchNorm,
  Conv2d,
  Linear,
  channelShuffle,
  type BatchNormApplyOptions,
  globalAvgPool,
  relu,
  splitChannels,
  type Scope,
  type Size2d,
} from '../layers/index.js';
import type { StageFeature } from '../types.js';
import { INPUT_SIZE, featureShape, scaleWidth, type BuildContext, type BuiltNet, type NetBuilder } from './base.js';

const DEFAULT_INIT = { init: 'torch_default' } as const;

class ConvBn {
  readonly conv: Conv2d;
  readonly bn: BatchNorm;
  constructor(scope: Scope, convName: string, bnName: string, inC: number, outC: number, k: number, stride: number, groups: number, inSize: Size2d) {
    this.conv = new Conv2d(
      scope.child(convName),
      { ...DEFAULT_INIT, inChannels: inC, outChannels: outC, kernelSize: k, stride, padding: (k - 1) / 2, groups },
      inSize,
    );
    this.bn = new BatchNorm(scope.child(bnName), outC);
  }
  get outSize(): Size2d {
    return this.conv.outSize;
  }
  apply(x: tf.Tensor4D, training: boolean, opts: BatchNormApplyOptions = {}): tf.Tensor4D {
    return this.bn.apply(this.conv.apply(x), training, opts);
  }
}

class BasicUnit {
  private readonly cb1: ConvBn;
  private readonly cb2: ConvBn;
  private readonly cb3: ConvBn;
  private readonly split: number;

  constructor(scope: Scope, channels: number, size: Size2d) {
    this.split = Math.trunc(channels * 0.5);
    const c = this.split;
    this.cb1 = new ConvBn(scope, 'conv1', 'bn1', c, c, 1, 1, 1, size);
    this.cb2 = new ConvBn(scope, 'conv2', 'bn2', c, c, 3, 1, c, size);
    this.cb3 = new ConvBn(scope, 'conv3', 'bn3', c, c, 1, 1, 1, size);
  }

  apply(x: tf.Tensor4D, training: boolean): { out: tf.Tensor4D; preact: tf.Tensor4D } {
    const [x1, x2] = splitChannels(x, this.split);
    let h = this.cb1.apply(x2, training, { relu: true });
    h = this.cb2.apply(h, training);
    const pre = this.cb3.apply(h, training);
    const preact = tf.concat([x1, pre], 3);
    const out = channelShuffle(tf.concat([x1, relu(pre)], 3), 2);
    return { out, preact };
  }
}

class DownUnit {
  private readonly left1: ConvBn;
  private readonly left2: ConvBn;
  private readonly right1: ConvBn;
  private readonly right2: ConvBn;
  private readonly right3: ConvBn;
  readonly outSize: Size2d;

  constructor(scope: Scope, inC: number, outC: number, size: Size2d) {
    const mid = Math.trunc(outC / 2);
    this.left1 = new ConvBn(scope, 'conv1', 'bn1', inC, inC, 3, 2, inC, size);
    this.left2 = new ConvBn(scope, 'conv2', 'bn2', inC, mid, 1, 1, 1, this.left1.outSize);
    this.right1 = new ConvBn(scope, 'conv3', 'bn3', inC, mid, 1, 1, 1, size);
    this.right2 = new ConvBn(scope, 'conv4', 'bn4', mid, mid, 3, 2, mid, size);
    this.right3 = new ConvBn(scope, 'conv5', 'bn5', mid, mid, 1, 1, 1, this.right2.outSize);
    this.outSize = this.left2.outSize;
  }

  apply(x: tf.Tensor4D, training: boolean): tf.Tensor4D {
    const left = this.left2.apply(this.left1.apply(x, training), training, { relu: true });
    let right = this.right1.apply(x, training, { relu: true });
    right = this.right3.apply(this.right2.apply(right, training), training, { relu: true });
    return channelShuffle(tf.concat([left, right], 3), 2);
  }
}

function buildShuffleNetV2(outChannels: [number, number, number, number], numBlocks: [number, number, number]): NetBuilder {
  return (ctx: BuildContext): BuiltNet => {
    const { scope } = ctx;
    const stemC = scaleWidth(24, ctx.widthFactor);
    const widths = outChannels.slice(0, 3).map((c) => scaleWidth(c, ctx.widthFactor, 2));
    const lastC = scaleWidth(outChannels[3], ctx.widthFactor);
    const stem = new ConvBn(scope, 'conv1', 'bn1', 3, stemC, 1, 1, 1, INPUT_SIZE);
    const shapes = [featureShape('stem', stemC, stem.outSize)];
    let inC = stemC;
    let size = stem.outSize;
    const stages: { down: DownUnit; units: BasicUnit[] }[] = [];
    widths.forEach((w, s) => {
      const layer = scope.child(`layer${s + 1}`);
      const down = new DownUnit(layer.child(0), inC, w, size);
      size = down.outSize;
      const units: BasicUnit[] = [];
      for (let i = 0; i < numBlocks[s]!; i++) units.push(new BasicUnit(layer.child(i + 1), w, size));
      stages.push({ down, units });
      inC = w;
      shapes.push(featureShape(`stage${s + 1}`, w, size));
    });
    const head = new ConvBn(scope, 'conv2', 'bn2', inC, lastC, 1, 1, 1, size);
    const linear = new Linear(scope.child('linear'), lastC, ctx.numClasses);

    return {
      featureShapes: shapes,
      embeddingDim: lastC,
      classifier: linear,
      forward(x, training) {
        const stemPre = stem.apply(x, training);
        let h = relu(stemPre);
        const features: StageFeature[] = [{ name: 'stem', pre: stemPre, post: h }];
        stages.forEach(({ down, units }, s) => {
          h = down.apply(h, training);
          let preact = h;
          for (const unit of units) ({ out: h, preact } = unit.apply(h, training));
          features.push({ name: `stage${s + 1}`, pre: preact, post: h });
        });
        const embedding = globalAvgPool(head.apply(h, training, { relu: true }));
        return { logits: linear.apply(embedding), features, embedding };
      },
    };
  };
}

export const shufflenetv2Builders: Record<string, NetBuilder> = {
  shufflenetv2: buildShuffleNetV2([116, 232, 464, 1024], [3, 7, 3]),
};
