/**
 * CIFAR ResNets (He et al., "Deep Residual Learning for Image Recognition", CVPR 2016, §4.2)
 * as used by the CRD benchmark (Tian et al., ICLR 2020; RepDistiller models/resnet.py):
 * 3x3 stem conv-BN-ReLU, three stages of (depth-2)/6 basic blocks, a 1x1-conv + BN projection
 * shortcut whenever the shape changes (option B), global average pooling and a linear head.
 * resnet{8..110} use widths 16/16/32/64; resnet8x4 and resnet32x4 use 32/64/128/256.
 * Convs: Kaiming normal fan_out; Linear: PyTorch default.
 *
 * Features: stem pre = BN output, post = after ReLU (RepDistiller f0); stage i pre = the last
 * block's residual sum before its ReLU (RepDistiller preact f_i), post = after the ReLU.
 */
import { tf } from '@kdbench/engine';
import { BatchNorm, Conv2d, Linear, relu, type Scope, type Size2d } from '../layers/index.js';
import { INPUT_SIZE, blocksToHead, buildStages, scaleWidth, stagedPasses, type BuildContext, type BuiltNet, type NetBuilder } from './base.js';

export class BasicBlock {
  private readonly conv1: Conv2d;
  private readonly bn1: BatchNorm;
  private readonly conv2: Conv2d;
  private readonly bn2: BatchNorm;
  private readonly downsample: { conv: Conv2d; bn: BatchNorm } | null;
  readonly outSize: Size2d;

  /** `residual: false` drops the shortcut (the plain CNN of Li et al., NeurIPS 2020): out = ReLU(bn2(conv2(...))). */
  constructor(scope: Scope, inPlanes: number, planes: number, stride: number, inSize: Size2d, private readonly residual = true) {
    this.conv1 = new Conv2d(scope.child('conv1'), { inChannels: inPlanes, outChannels: planes, kernelSize: 3, stride, padding: 1 }, inSize);
    this.bn1 = new BatchNorm(scope.child('bn1'), planes);
    this.conv2 = new Conv2d(scope.child('conv2'), { inChannels: planes, outChannels: planes, kernelSize: 3, padding: 1 }, this.conv1.outSize);
    this.bn2 = new BatchNorm(scope.child('bn2'), planes);
    this.outSize = this.conv2.outSize;
    if (residual && (stride !== 1 || inPlanes !== planes)) {
      const ds = scope.child('downsample');
      this.downsample = {
        conv: new Conv2d(ds.child(0), { inChannels: inPlanes, outChannels: planes, kernelSize: 1, stride }, inSize),
        bn: new BatchNorm(ds.child(1), planes),
      };
    } else {
      this.downsample = null;
    }
  }

  /** The batch norm ending the residual branch: its output (plus the shortcut) reaches the block's last ReLU. */
  get lastNorm(): BatchNorm {
    return this.bn2;
  }

  /** Returns the block output and (unless `withPreact` is false) its pre-ReLU residual sum (bn2's output without a shortcut). */
  apply(x: tf.Tensor4D, training: boolean, withPreact = true): { out: tf.Tensor4D; preact?: tf.Tensor4D } {
    const h = this.conv2.apply(this.bn1.apply(this.conv1.apply(x), training, { relu: true }));
    const residual = !this.residual ? undefined : this.downsample ? this.downsample.bn.apply(this.downsample.conv.apply(x), training) : x;
    if (!withPreact) return { out: this.bn2.apply(h, training, { residual, relu: true }) };
    const preact = this.bn2.apply(h, training, { residual });
    return { out: relu(preact), preact };
  }
}

function buildResNet(depth: number, widths: readonly [number, number, number, number]): NetBuilder {
  if ((depth - 2) % 6 !== 0) throw new Error(`resnet depth must be 6n+2, got ${depth}`);
  const n = (depth - 2) / 6;
  return (ctx: BuildContext): BuiltNet => {
    const { scope } = ctx;
    const w = widths.map((c) => scaleWidth(c, ctx.widthFactor));
    const conv1 = new Conv2d(scope.child('conv1'), { inChannels: 3, outChannels: w[0]!, kernelSize: 3, padding: 1 }, INPUT_SIZE);
    const bn1 = new BatchNorm(scope.child('bn1'), w[0]!);
    const { stages, shapes, planes: inPlanes } = buildStages(w[0]!, conv1.outSize, [n, n, n], (s, b, inPlanes, size) => ({
      block: new BasicBlock(scope.child(`layer${s + 1}`).child(b), inPlanes, w[s + 1]!, b === 0 && s > 0 ? 2 : 1, size),
      out: w[s + 1]!,
    }));
    const fc = new Linear(scope.child('fc'), inPlanes, ctx.numClasses);
    const [lastIn, last] = [shapes.at(-2)!, shapes.at(-1)!];

    return {
      featureShapes: shapes,
      embeddingDim: inPlanes,
      classifier: fc,
      ...stagedPasses({ conv: conv1, bn: bn1 }, stages, fc),
      // blocks `<scope>.layer.<j>` and the head `<scope>.fc`, built as stage 3 and fc are
      lastStage: (copy, numClasses) => {
        let at = { h: lastIn.height, w: lastIn.width };
        const blocks = Array.from({ length: n }, (_, j) => {
          const block = new BasicBlock(copy.child('layer').child(j), j === 0 ? lastIn.channels : last.channels, last.channels, j === 0 ? 2 : 1, at);
          at = block.outSize;
          return block;
        });
        const head = new Linear(copy.child('fc'), last.channels, numClasses);
        return { apply: (h, training) => blocksToHead(blocks, head, h, training) };
      },
      preReluNorms: [bn1, ...stages.map((blocks) => blocks.at(-1)!.lastNorm)],
    };
  };
}

const SMALL = [16, 16, 32, 64] as const;
const X4 = [32, 64, 128, 256] as const;

export const resnetBuilders: Record<string, NetBuilder> = {
  resnet8: buildResNet(8, SMALL),
  resnet14: buildResNet(14, SMALL),
  resnet20: buildResNet(20, SMALL),
  resnet26: buildResNet(26, SMALL),
  resnet32: buildResNet(32, SMALL),
  resnet44: buildResNet(44, SMALL),
  resnet56: buildResNet(56, SMALL),
  resnet110: buildResNet(110, SMALL),
  resnet8x4: buildResNet(8, X4),
  resnet32x4: buildResNet(32, X4),
};
