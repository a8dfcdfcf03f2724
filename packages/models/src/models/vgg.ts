/**
 * CIFAR VGG with batch norm (Simonyan & Zisserman, "Very Deep Convolutional Networks for
 * Large-Scale Image Recognition", ICLR 2015) as in the CRD benchmark (Tian et al., ICLR 2020;
 * RepDistiller models/vgg.py, `vgg*_bn`): five blocks of 3x3 conv(+bias)-BN-ReLU separated by
 * 2x2 max pools after blocks 0-2 (no pool after block 3 at 32x32), global average pooling and
 * one linear layer on 512 channels. Configs: vgg8 [64][128][256][512][512], vgg11
 * [64][128][256,256][512,512][512,512], vgg13 [64,64][128,128][256,256][512,512][512,512],
 * vgg16 [64,64][128,128][256,256,256][512,512,512][512,512,512]. kuangliu/pytorch-cifar's VGGs
 * have the same layers and one more 2x2 pool (block 4 runs at 2x2 instead of 4x4): same
 * parameters, fewer MACs.
 * Convs: N(0, 2/(k*k*out)) with zero bias; Linear: N(0, 0.01), zero bias.
 *
 * Features: stem = block0, stage1..4 = block1..4; pre = the block's last BN output, post = after
 * ReLU (RepDistiller f_i / f_i_pre). The last stage a branch copies (copyLastStage) is block 4.
 */
import { BatchNorm, Conv2d, Linear, globalAvgPool, maxPool2, maxPool2Size, relu, type Scope, type Size2d } from '../layers/index.js';
import type { tf } from '@kdbench/engine';
import type { StageFeature } from '../types.js';
import { INPUT_SIZE, featureShape, scaleWidth, type BuildContext, type BuiltNet, type NetBuilder } from './base.js';

class VggBlock {
  private readonly layers: { conv: Conv2d; bn: BatchNorm }[] = [];
  readonly outSize: Size2d;

  constructor(scope: Scope, inChannels: number, widths: number[], inSize: Size2d) {
    let c = inChannels;
    let size = inSize;
    widths.forEach((v, i) => {
      // PyTorch Sequential indices: conv at 3i, BN at 3i+1, ReLU at 3i+2
      const conv = new Conv2d(scope.child(3 * i), { inChannels: c, outChannels: v, kernelSize: 3, padding: 1, bias: true }, size);
      const bn = new BatchNorm(scope.child(3 * i + 1), v);
      this.layers.push({ conv, bn });
      c = v;
      size = conv.outSize;
    });
    this.outSize = size;
  }

  /** Output of the last BN (the block's final ReLU is applied by the caller). */
  apply(x: tf.Tensor4D, training: boolean): tf.Tensor4D {
    let h = x;
    this.layers.forEach(({ conv, bn }, i) => {
      h = bn.apply(conv.apply(h), training, { relu: i < this.layers.length - 1 });
    });
    return h;
  }
}

function buildVgg(cfg: number[][]): NetBuilder {
  return (ctx: BuildContext): BuiltNet => {
    const { scope } = ctx;
    const widths = cfg.map((block) => block.map((c) => scaleWidth(c, ctx.widthFactor)));
    const blocks: VggBlock[] = [];
    const shapes = [];
    let size: Size2d = INPUT_SIZE;
    let c = 3;
    for (let i = 0; i < 5; i++) {
      if (i >= 1 && i <= 3) size = maxPool2Size(size); // pool0..pool2 precede blocks 1..3
      const block = new VggBlock(scope.child(`block${i}`), c, widths[i]!, size);
      blocks.push(block);
      size = block.outSize;
      c = widths[i]!.at(-1)!;
      shapes.push(featureShape(i === 0 ? 'stem' : `stage${i}`, c, size));
    }
    const classifier = new Linear(scope.child('classifier'), c, ctx.numClasses, { kind: 'normal', std: 0.01 });
    const lastIn = shapes.at(-2)!;

    return {
      featureShapes: shapes,
      embeddingDim: c,
      classifier,
      forward(x, training) {
        const features: StageFeature[] = [];
        let h = x;
        blocks.forEach((block, i) => {
          if (i >= 1 && i <= 3) h = maxPool2(h);
          const pre = block.apply(h, training);
          h = relu(pre);
          features.push({ name: i === 0 ? 'stem' : `stage${i}`, pre, post: h });
        });
        const embedding = globalAvgPool(h);
        return { logits: classifier.apply(embedding), features, embedding };
      },
      // block 4 (no pool before it) as `<scope>.block4` and the head as `<scope>.classifier`, initialised as the net's own
      lastStage: (copy, numClasses) => {
        const block = new VggBlock(copy.child('block4'), lastIn.channels, widths[4]!, { h: lastIn.height, w: lastIn.width });
        const head = new Linear(copy.child('classifier'), c, numClasses, { kind: 'normal', std: 0.01 });
        return {
          apply: (h, training) => {
            const embedding = globalAvgPool(relu(block.apply(h, training)));
            return { logits: head.apply(embedding), embedding };
          },
        };
      },
    };
  };
}

export const vggBuilders: Record<string, NetBuilder> = {
  vgg8: buildVgg([[64], [128], [256], [512], [512]]),
  vgg11: buildVgg([[64], [128], [256, 256], [512, 512], [512, 512]]),
  vgg13: buildVgg([[64, 64], [128, 128], [256, 256], [512, 512], [512, 512]]),
  vgg16: buildVgg([[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]]),
};
