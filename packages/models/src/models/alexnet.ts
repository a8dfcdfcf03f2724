/**
 * AlexNet (Krizhevsky, "One weird trick for parallelizing convolutional neural networks", 2014)
 * in the CIFAR form of bearpaw/pytorch-classification models/cifar/alexnet.py, the AlexNet whose
 * CIFAR accuracies (77.2% / 43.9%) are close to the survey's ACNs baselines (73.24% / 39.45%):
 * the five convolutions of the original with the fully connected layers removed, no batch norm.
 * conv 11x11/4 pad 5 to 64 (8x8) - ReLU - max pool 2 - conv 5x5 pad 2 to 192 (4x4) - ReLU - max
 * pool 2 - conv 3x3 to 384 - ReLU - conv 3x3 to 256 - ReLU - conv 3x3 to 256 (2x2) - ReLU - max
 * pool 2 (1x1), and one linear layer on the 256 values. Convs with bias; PyTorch default inits.
 * Without batch norm it trains at a smaller learning rate than the BN nets (0.01 in the reference).
 *
 * Features: stem = conv1, stage1..4 = conv2..conv5, each before its max pool; pre = the conv
 * output, post = after ReLU. The embedding is the final max pool's output (a global max over 2x2).
 */
import { tf } from '@kdbench/engine';
import { Conv2d, Linear, maxPool2, maxPool2Size, relu, type Size2d } from '../layers/index.js';
import type { FeatureShape, StageFeature } from '../types.js';
import { INPUT_SIZE, featureShape, scaleWidth, type BuildContext, type BuiltNet, type NetBuilder } from './base.js';

/** [output channels, kernel, stride, padding, max pool after] of the five convolutions. */
const CONVS: [number, number, number, number, boolean][] = [
  [64, 11, 4, 5, true],
  [192, 5, 1, 2, true],
  [384, 3, 1, 1, false],
  [256, 3, 1, 1, false],
  [256, 3, 1, 1, true],
];

const buildAlexNet: NetBuilder = (ctx: BuildContext): BuiltNet => {
  const { scope } = ctx;
  let inC = 3;
  let size: Size2d = INPUT_SIZE;
  const shapes: FeatureShape[] = [];
  const convs = CONVS.map(([channels, k, stride, padding, pool], i) => {
    const out = scaleWidth(channels, ctx.widthFactor);
    // PyTorch Sequential indices of the reference's `features`
    const index = [0, 3, 6, 8, 10][i]!;
    const conv = new Conv2d(scope.child('features').child(index), { inChannels: inC, outChannels: out, kernelSize: k, stride, padding, bias: true, init: 'torch_default' }, size);
    shapes.push(featureShape(i === 0 ? 'stem' : `stage${i}`, out, conv.outSize));
    inC = out;
    size = pool ? maxPool2Size(conv.outSize) : conv.outSize;
    return { conv, pool };
  });
  if (size.h !== 1 || size.w !== 1) throw new Error(`alexnet: expected a 1x1 map before the classifier, got ${size.h}x${size.w}`);
  const classifier = new Linear(scope.child('classifier'), inC, ctx.numClasses);

  return {
    featureShapes: shapes,
    embeddingDim: inC,
    classifier,
    // no batch norm or dropout: training and evaluation are the same function
    forward(x) {
      const features: StageFeature[] = [];
      let h = x;
      convs.forEach(({ conv, pool }, i) => {
        const pre = conv.apply(h);
        const post = relu(pre);
        features.push({ name: i === 0 ? 'stem' : `stage${i}`, pre, post });
        h = pool ? maxPool2(post) : post;
      });
      const embedding = tf.reshape(h, [h.shape[0], inC]) as tf.Tensor2D;
      return { logits: classifier.apply(embedding), features, embedding };
    },
  };
};

export const alexnetBuilders: Record<string, NetBuilder> = {
  alexnet: buildAlexNet,
};
