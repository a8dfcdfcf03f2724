/**
 * DenseNet (Huang et al., "Densely Connected Convolutional Networks", CVPR 2017, §3-4) in its
 * CIFAR form without bottlenecks or compression, DenseNet (L=40, k=12) of the paper's Table 2:
 * a 3x3 conv to 16 channels, three dense blocks of (40-4)/3 = 12 layers at 32/16/8 pixels, each
 * layer BN - ReLU - 3x3 conv to k = 12 channels concatenated to its input, transition layers
 * BN - ReLU - 1x1 conv (same width) - 2x2 average pool between the blocks, and a final BN - ReLU,
 * global average pooling and a linear head (16 + 3*12*12 = 448 channels). No dropout (the
 * paper's setting with data augmentation). This is the DenseNet-40 of PCL's and Xu & Liu's rows
 * in the survey's tables. Convs: N(0, 2/(k*k*out)); Linear: PyTorch default weight, zero bias
 * (the fb.resnet.torch init of the authors' code).
 *
 * Features, as for the pre-activation WRNs: stem = conv output (pre = post); stage i post = the
 * dense block's output, pre = that output after the next BN (the transition's, or the final one).
 *
 * widthFactor scales the stem width and the growth rate k. The last stage a branch copies
 * (copyLastStage) is the second transition, the third dense block and the final BN.
 */
import { tf } from '@kdbench/engine';
import { BatchNorm, Conv2d, Linear, avgPool2, globalAvgPool, maxPool2Size, relu, type Scope, type Size2d } from '../layers/index.js';
import type { StageFeature } from '../types.js';
import { INPUT_SIZE, featureShape, scaleWidth, type BuildContext, type BuiltNet, type NetBuilder } from './base.js';

/** BN - ReLU - 3x3 conv to `growth` channels, concatenated to the input. */
class DenseLayer {
  private readonly bn: BatchNorm;
  private readonly conv: Conv2d;

  constructor(scope: Scope, inPlanes: number, growth: number, size: Size2d) {
    this.bn = new BatchNorm(scope.child('bn'), inPlanes);
    this.conv = new Conv2d(scope.child('conv'), { inChannels: inPlanes, outChannels: growth, kernelSize: 3, padding: 1 }, size);
  }

  apply(x: tf.Tensor4D, training: boolean): tf.Tensor4D {
    return tf.concat([x, this.conv.apply(this.bn.apply(x, training, { relu: true }))], 3);
  }
}

/** BN - ReLU - 1x1 conv - 2x2 average pool; `bn` is exposed because its output is a stage's pre feature. */
class Transition {
  readonly bn: BatchNorm;
  private readonly conv: Conv2d;

  constructor(scope: Scope, planes: number, size: Size2d) {
    this.bn = new BatchNorm(scope.child('bn'), planes);
    this.conv = new Conv2d(scope.child('conv'), { inChannels: planes, outChannels: planes, kernelSize: 1 }, size);
  }

  /** The pooled output from the already normalised input `pre`. */
  applyFromPre(pre: tf.Tensor4D): tf.Tensor4D {
    return avgPool2(this.conv.apply(relu(pre)));
  }
}

function buildDenseNet(depth: number, growthRate: number): NetBuilder {
  if ((depth - 4) % 3 !== 0) throw new Error(`densenet depth must be 3n+4, got ${depth}`);
  const layersPerBlock = (depth - 4) / 3;
  return (ctx: BuildContext): BuiltNet => {
    const { scope } = ctx;
    const growth = scaleWidth(growthRate, ctx.widthFactor);
    let planes = scaleWidth(16, ctx.widthFactor);
    const conv1 = new Conv2d(scope.child('conv1'), { inChannels: 3, outChannels: planes, kernelSize: 3, padding: 1 }, INPUT_SIZE);
    const shapes = [featureShape('stem', planes, conv1.outSize)];
    let size = conv1.outSize;
    const blocks: DenseLayer[][] = [];
    const transitions: Transition[] = [];
    for (let s = 0; s < 3; s++) {
      const block: DenseLayer[] = [];
      for (let i = 0; i < layersPerBlock; i++) {
        block.push(new DenseLayer(scope.child(`dense${s + 1}`).child(i), planes, growth, size));
        planes += growth;
      }
      blocks.push(block);
      shapes.push(featureShape(`stage${s + 1}`, planes, size));
      if (s < 2) {
        transitions.push(new Transition(scope.child(`trans${s + 1}`), planes, size));
        size = maxPool2Size(size);
      }
    }
    const bnFinal = new BatchNorm(scope.child('bn'), planes);
    const fc = new Linear(scope.child('fc'), planes, ctx.numClasses, { kind: 'torch_default_zero_bias' });
    const [lastIn, last] = [shapes.at(-2)!, shapes.at(-1)!];

    return {
      featureShapes: shapes,
      embeddingDim: planes,
      classifier: fc,
      forward(x, training) {
        let h = conv1.apply(x);
        const features: StageFeature[] = [{ name: 'stem', pre: h, post: h }];
        let pre = h;
        blocks.forEach((block, s) => {
          for (const layer of block) h = layer.apply(h, training);
          const transition = transitions[s];
          pre = transition ? transition.bn.apply(h, training) : bnFinal.apply(h, training);
          features.push({ name: `stage${s + 1}`, pre, post: h });
          if (transition) h = transition.applyFromPre(pre);
        });
        const embedding = globalAvgPool(relu(pre));
        return { logits: fc.apply(embedding), features, embedding };
      },
      // the second transition, the third dense block and the final BN and head, named as in the net
      lastStage: (copy, numClasses) => {
        const at = { h: lastIn.height, w: lastIn.width };
        const transition = new Transition(copy.child('trans2'), lastIn.channels, at);
        let width = lastIn.channels;
        const block = Array.from({ length: layersPerBlock }, (_, i) => {
          const layer = new DenseLayer(copy.child('dense3').child(i), width, growth, { h: last.height, w: last.width });
          width += growth;
          return layer;
        });
        const bn = new BatchNorm(copy.child('bn'), width);
        const head = new Linear(copy.child('fc'), width, numClasses, { kind: 'torch_default_zero_bias' });
        return {
          apply: (h, training) => {
            h = transition.applyFromPre(transition.bn.apply(h, training));
            for (const layer of block) h = layer.apply(h, training);
            const embedding = globalAvgPool(bn.apply(h, training, { relu: true }));
            return { logits: head.apply(embedding), embedding };
          },
        };
      },
    };
  };
}

export const densenetBuilders: Record<string, NetBuilder> = {
  densenet40_12: buildDenseNet(40, 12),
};
