/**
 * MobileNetV2 (Sandler et al., "MobileNetV2: Inverted Residuals and Linear Bottlenecks",
 * CVPR 2018) in the CIFAR form of the CRD benchmark (Tian et al., ICLR 2020; RepDistiller
 * models/mobilenetv2.py, `mobile_half` = expansion T=6, width multiplier 0.5): a 3x3 stride-2
 * conv-BN-ReLU stem, seven groups of inverted residual blocks (t, c, n, s) = (1,16,1,1),
 * (T,24,2,1), (T,32,3,2), (T,64,4,2), (T,96,3,1), (T,160,3,2), (T,320,1,1) with channels
 * int(c * 0.5), each block pw-expand/BN/ReLU, 3x3 depthwise/BN/ReLU, pw-linear/BN (residual when
 * stride 1 and widths match; the expand conv is kept at t=1), a 1x1 conv to 1280 + BN + ReLU,
 * global average pooling and a linear head.
 * Convs: N(0, 2/(k*k*out)); Linear: N(0, 0.01), zero bias.
 *
 * Features (RepDistiller): stem = conv1 (pre = BN output, post = ReLU); stage1 = after groups
 * 0-1 (16x16), stage2 = group 2 (8x8), stage3 = groups 3-4 (4x4), stage4 = groups 5-6 (2x2).
 * Blocks end in a linear bottleneck, so a stage's pre and post are the same tensor.
 */
import { tf } from '@kdbench/engine';
import { BatchNorm, Conv2d, Linear, globalAvgPool, relu, type Scope, type Size2d } from '../layers/index.js';
import type { StageFeature } from '../types.js';
import { INPUT_SIZE, featureShape, scaleWidth, type BuildContext, type BuiltNet, type NetBuilder } from './base.js';

class InvertedResidual {
  private readonly convs: Conv2d[];
  private readonly bns: BatchNorm[];
  private readonly useRes: boolean;
  readonly outSize: Size2d;

  constructor(scope: Scope, inp: number, oup: number, stride: number, expand: number, inSize: Size2d) {
    const hidden = inp * expand;
    const s = scope.child('conv'); // Sequential: 0 pw, 1 BN, 2 ReLU, 3 dw, 4 BN, 5 ReLU, 6 pw-linear, 7 BN
    const pw = new Conv2d(s.child(0), { inChannels: inp, outChannels: hidden, kernelSize: 1 }, inSize);
    const dw = new Conv2d(s.child(3), { inChannels: hidden, outChannels: hidden, kernelSize: 3, stride, padding: 1, groups: hidden }, pw.outSize);
    const pwl = new Conv2d(s.child(6), { inChannels: hidden, outChannels: oup, kernelSize: 1 }, dw.outSize);
    this.convs = [pw, dw, pwl];
    this.bns = [new BatchNorm(s.child(1), hidden), new BatchNorm(s.child(4), hidden), new BatchNorm(s.child(7), oup)];
    this.useRes = stride === 1 && inp === oup;
    this.outSize = pwl.outSize;
  }

  apply(x: tf.Tensor4D, training: boolean): tf.Tensor4D {
    const [pw, dw, pwl] = this.convs as [Conv2d, Conv2d, Conv2d];
    const [b1, b2, b3] = this.bns as [BatchNorm, BatchNorm, BatchNorm];
    let h = b1.apply(pw.apply(x), training, { relu: true });
    h = b2.apply(dw.apply(h), training, { relu: true });
    return b3.apply(pwl.apply(h), training, this.useRes ? { residual: x } : {});
  }
}

/** (expansion, channels, blocks, stride) per group, with T standing for the expansion. */
const SETTING = (T: number): [number, number, number, number][] => [
  [1, 16, 1, 1],
  [T, 24, 2, 1],
  [T, 32, 3, 2],
  [T, 64, 4, 2],
  [T, 96, 3, 1],
  [T, 160, 3, 2],
  [T, 320, 1, 1],
];

/** Index of the last block group of each stage. */
const STAGE_ENDS = [1, 2, 4, 6];

function buildMobileNetV2(T: number, widthMult: number): NetBuilder {
  return (ctx: BuildContext): BuiltNet => {
    const { scope } = ctx;
    const width = (c: number) => scaleWidth(Math.trunc(c * widthMult), ctx.widthFactor);
    let inC = width(32);
    const stemConv = new Conv2d(scope.child('conv1').child(0), { inChannels: 3, outChannels: inC, kernelSize: 3, stride: 2, padding: 1 }, INPUT_SIZE);
    const stemBn = new BatchNorm(scope.child('conv1').child(1), inC);
    const shapes = [featureShape('stem', inC, stemConv.outSize)];
    let size = stemConv.outSize;
    const groups: InvertedResidual[][] = [];
    SETTING(T).forEach(([t, c, n, s], g) => {
      const outC = width(c);
      const blocks: InvertedResidual[] = [];
      for (let i = 0; i < n; i++) {
        const block = new InvertedResidual(scope.child('blocks').child(g).child(i), inC, outC, i === 0 ? s : 1, t, size);
        blocks.push(block);
        inC = outC;
        size = block.outSize;
      }
      groups.push(blocks);
      const stage = STAGE_ENDS.indexOf(g);
      if (stage >= 0) shapes.push(featureShape(`stage${stage + 1}`, outC, size));
    });
    const lastC = scaleWidth(widthMult > 1 ? Math.trunc(1280 * widthMult) : 1280, ctx.widthFactor);
    const headConv = new Conv2d(scope.child('conv2').child(0), { inChannels: inC, outChannels: lastC, kernelSize: 1 }, size);
    const headBn = new BatchNorm(scope.child('conv2').child(1), lastC);
    const classifier = new Linear(scope.child('classifier').child(0), lastC, ctx.numClasses, { kind: 'normal', std: 0.01 });

    return {
      featureShapes: shapes,
      embeddingDim: lastC,
      classifier,
      forward(x, training) {
        const stemPre = stemBn.apply(stemConv.apply(x), training);
        let h = relu(stemPre);
        const features: StageFeature[] = [{ name: 'stem', pre: stemPre, post: h }];
        groups.forEach((blocks, g) => {
          for (const block of blocks) h = block.apply(h, training);
          const stage = STAGE_ENDS.indexOf(g);
          if (stage >= 0) features.push({ name: `stage${stage + 1}`, pre: h, post: h });
        });
        const embedding = globalAvgPool(headBn.apply(headConv.apply(h), training, { relu: true }));
        return { logits: classifier.apply(embedding), features, embedding };
      },
    };
  };
}

export const mobilenetv2Builders: Record<string, NetBuilder> = {
  mobilenetv2: buildMobileNetV2(6, 0.5),
};
