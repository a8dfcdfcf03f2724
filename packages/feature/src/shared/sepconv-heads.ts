/**
 * TOFD's auxiliary classifiers (Zhang et al., NeurIPS 2020; the authors' models/resnet.py at
 * fcfd4be): after a shallow stage, a stack of separable-convolution blocks carries the map, one
 * block per later stage, to the deepest stage's width and size; global average pooling gives a
 * vector, and a linear layer its logits. A block is depthwise 3x3 (stride s) -> pointwise 1x1 ->
 * BN -> ReLU -> depthwise 3x3 -> pointwise 1x1 (to the next stage's width) -> BN -> ReLU, with no
 * conv biases; convolutions are Kaiming-normal (fan_out), linear layers PyTorch's default.
 *
 * The authors' 4-stage ResNets double the width and halve the size at every stage, so each block
 * does both; here a block goes from one stage's shape to the next one's, with stride 1 or 2, so
 * the same heads fit the zoo's other networks.
 */
import { ParamModule } from '@kdbench/core';
import { tf } from '@kdbench/engine';
import { layers, type FeatureShape, type StageFeature } from '@kdbench/models';

interface SepConv {
  convs: layers.Conv2d[];
  bns: layers.BatchNorm[];
}

/** One head's pooled vector and logits. */
export interface HeadOutput {
  readonly feature: tf.Tensor2D;
  readonly logits: tf.Tensor2D;
}

export class SepConvHeads extends ParamModule {
  private readonly branches: { start: number; blocks: SepConv[]; fc: layers.Linear }[] = [];

  /**
   * `stages`: the network's stage shapes [stage1, ..., stageS] (no stem); `heads`: how many
   * auxiliary heads, on stages S-1, S-2, ... (deepest first).
   */
  constructor(seed: number, stages: readonly FeatureShape[], heads: number, numClasses: number, readonly label: string) {
    super(seed);
    const S = stages.length;
    if (heads > S - 1) throw new Error(`${label}: ${heads} auxiliary heads asked for a network of ${S} stages`);
    for (let k = 1; k <= heads; k++) {
      const start = S - k; // 1-based stage index = index into [stem, stage1, ...]
      const scope = this.scope.child(`head${k}`);
      const blocks: SepConv[] = [];
      for (let i = start; i < S; i++) blocks.push(this.sepConv(scope.child(`block${i - start}`), stages[i - 1]!, stages[i]!));
      this.branches.push({ start, blocks, fc: new layers.Linear(scope.child('fc'), stages[S - 1]!.channels, numClasses) });
    }
  }

  private sepConv(scope: layers.Scope, from: FeatureShape, to: FeatureShape): SepConv {
    const stride = from.height / to.height;
    if ((stride !== 1 && stride !== 2) || from.width / to.width !== stride) {
      throw new Error(`${this.label}: no separable-conv block from ${from.name} (${from.height}x${from.width}) to ${to.name} (${to.height}x${to.width}); the stride must be 1 or 2`);
    }
    const c = from.channels;
    const specs: layers.Conv2dOptions[] = [
      { inChannels: c, outChannels: c, kernelSize: 3, stride, padding: 1, groups: c },
      { inChannels: c, outChannels: c, kernelSize: 1 },
      { inChannels: c, outChannels: c, kernelSize: 3, padding: 1, groups: c },
      { inChannels: c, outChannels: to.channels, kernelSize: 1 },
    ];
    let size = { h: from.height, w: from.width };
    const convs = specs.map((spec, j) => {
      const conv = new layers.Conv2d(scope.child(`conv${j}`), spec, size);
      size = conv.outSize;
      return conv;
    });
    return { convs, bns: [new layers.BatchNorm(scope.child('bn0'), c), new layers.BatchNorm(scope.child('bn1'), to.channels)] };
  }

  /** The auxiliary heads' outputs (deepest first) from a forward pass's `features` ([stem, stage1, ...]). */
  apply(features: readonly StageFeature[], training: boolean): HeadOutput[] {
    return this.branches.map(({ start, blocks, fc }) => {
      const map = blocks.reduce((h, { convs, bns }) => {
        const half = tf.relu(bns[0]!.apply(convs[1]!.apply(convs[0]!.apply(h)), training));
        return tf.relu(bns[1]!.apply(convs[3]!.apply(convs[2]!.apply(half)), training));
      }, features[start]!.post);
      const feature = layers.globalAvgPool(map);
      return { feature, logits: fc.apply(feature) };
    });
  }

  /** Variables by stable name under `prefix`: the batch-norm statistics, or every variable. */
  variablesByName(prefix: string, which: 'statistics' | 'all'): Record<string, tf.Variable> {
    const kept = this.store.entries.filter((e) => which === 'all' || !e.trainable);
    return Object.fromEntries(kept.map((e) => [`${prefix}/${e.name}`, e.variable]));
  }
}
