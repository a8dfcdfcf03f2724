/**
 * Wide residual networks (Zagoruyko & Komodakis, "Wide Residual Networks", BMVC 2016) in the
 * pre-activation form used by the CRD benchmark (Tian et al., ICLR 2020; RepDistiller
 * models/wrn.py): WRN-d-k has a 3x3 stem conv, three stages of (d-4)/6 BN-ReLU-conv blocks with
 * widths 16k/32k/64k, a 1x1 conv shortcut (applied to the activated input) when the width
 * changes, a final BN-ReLU, global average pooling and a linear head. Dropout is 0.
 * Convs: N(0, 2/(k*k*out)); Linear: PyTorch default weight, zero bias.
 * The same definition (xternalz/WideResNet-pytorch) is the WRN of OFD and MGD (WRN-28-4, WRN-28-2,
 * WRN-16-4), of DML and DCM (WRN-28-10) and of the Zagoruyko & Komodakis tables (WRN-40-4, WRN-16-8).
 *
 * Features follow RepDistiller: stem = conv output (pre = post); stage i post = the raw block
 * output (its `is_feat` f_i), pre = that output after the next BN (the BN before the next ReLU,
 * RepDistiller's `preact` f_i: block(i+1).layer[0].bn1, or the final bn1 for the last stage).
 */
import { tf } from '@kdbench/engine';
import { BatchNorm, Conv2d, Linear, globalAvgPool, relu, type Scope, type Size2d } from '../layers/index.js';
import type { StageFeature } from '../types.js';
import { INPUT_SIZE, featureShape, scaleWidth, type BuildContext, type BuiltNet, type NetBuilder } from './base.js';

export class PreActBlock {
  private readonly bn1: BatchNorm;
  private readonly conv1: Conv2d;
  private readonly bn2: BatchNorm;
  private readonly conv2: Conv2d;
  private readonly shortcut: Conv2d | null;
  readonly outSize: Size2d;

  constructor(scope: Scope, inPlanes: number, outPlanes: number, stride: number, inSize: Size2d) {
    this.bn1 = new BatchNorm(scope.child('bn1'), inPlanes);
    this.conv1 = new Conv2d(scope.child('conv1'), { inChannels: inPlanes, outChannels: outPlanes, kernelSize: 3, stride, padding: 1 }, inSize);
    this.bn2 = new BatchNorm(scope.child('bn2'), outPlanes);
    this.conv2 = new Conv2d(scope.child('conv2'), { inChannels: outPlanes, outChannels: outPlanes, kernelSize: 3, padding: 1 }, this.conv1.outSize);
    this.outSize = this.conv2.outSize;
    this.shortcut =
      inPlanes === outPlanes
        ? null
        : new Conv2d(scope.child('convShortcut'), { inChannels: inPlanes, outChannels: outPlanes, kernelSize: 1, stride }, inSize);
    if (inPlanes === outPlanes && stride !== 1) throw new Error('wrn: identity shortcut cannot change resolution');
  }

  /** bn1, the batch norm before the ReLU at the block's input. */
  get inputNorm(): BatchNorm {
    return this.bn1;
  }

  /** Returns the block output and (unless `withBnIn` is false) bn1(x), the input's BN before its ReLU. */
  apply(x: tf.Tensor4D, training: boolean, withBnIn = true): { out: tf.Tensor4D; bnIn?: tf.Tensor4D } {
    const bnIn = withBnIn ? this.bn1.apply(x, training) : undefined;
    const act = bnIn ? relu(bnIn) : this.bn1.apply(x, training, { relu: true });
    let out = this.bn2.apply(this.conv1.apply(act), training, { relu: true });
    out = this.conv2.apply(out);
    const residual = this.shortcut ? this.shortcut.apply(act) : x;
    return { out: tf.add(residual, out), bnIn };
  }
}

function buildWrn(depth: number, widen: number): NetBuilder {
  if ((depth - 4) % 6 !== 0) throw new Error(`wrn depth must be 6n+4, got ${depth}`);
  const n = (depth - 4) / 6;
  return (ctx: BuildContext): BuiltNet => {
    const { scope } = ctx;
    const ch = [16, 16 * widen, 32 * widen, 64 * widen].map((c) => scaleWidth(c, ctx.widthFactor));
    const conv1 = new Conv2d(scope.child('conv1'), { inChannels: 3, outChannels: ch[0]!, kernelSize: 3, padding: 1 }, INPUT_SIZE);
    const shapes = [featureShape('stem', ch[0]!, conv1.outSize)];
    let size = conv1.outSize;
    const stages: PreActBlock[][] = [];
    for (let s = 0; s < 3; s++) {
      const blocks: PreActBlock[] = [];
      for (let b = 0; b < n; b++) {
        const inPlanes = b === 0 ? ch[s]! : ch[s + 1]!;
        const stride = b === 0 && s > 0 ? 2 : 1;
        const block = new PreActBlock(scope.child(`block${s + 1}`).child('layer').child(b), inPlanes, ch[s + 1]!, stride, size);
        blocks.push(block);
        size = block.outSize;
      }
      stages.push(blocks);
      shapes.push(featureShape(`stage${s + 1}`, ch[s + 1]!, size));
    }
    const bnFinal = new BatchNorm(scope.child('bn1'), ch[3]!);
    const fc = new Linear(scope.child('fc'), ch[3]!, ctx.numClasses, { kind: 'torch_default_zero_bias' });

    return {
      featureShapes: shapes,
      embeddingDim: ch[3]!,
      classifier: fc,
      // the stem is a bare conv; stage i's pre is the BN opening stage i+1 (the final bn1 after the last stage)
      preReluNorms: [null, ...stages.slice(1).map((blocks) => blocks[0]!.inputNorm), bnFinal],
      forward(x, training) {
        let h = conv1.apply(x);
        const features: StageFeature[] = [{ name: 'stem', pre: h, post: h }];
        const stageOut: tf.Tensor4D[] = [];
        const nextBn: tf.Tensor4D[] = [];
        stages.forEach((blocks, s) => {
          blocks.forEach((block, b) => {
            const opensStage = b === 0 && s > 0; // its bn1 output is the previous stage's pre feature
            const r = block.apply(h, training, opensStage);
            if (opensStage) nextBn.push(r.bnIn!);
            h = r.out;
          });
          stageOut.push(h);
        });
        const finalPre = bnFinal.apply(h, training);
        nextBn.push(finalPre);
        stageOut.forEach((post, s) => features.push({ name: `stage${s + 1}`, pre: nextBn[s]!, post }));
        const embedding = globalAvgPool(relu(finalPre));
        return { logits: fc.apply(embedding), features, embedding };
      },
    };
  };
}

export const wrnBuilders: Record<string, NetBuilder> = {
  wrn_16_1: buildWrn(16, 1),
  wrn_16_2: buildWrn(16, 2),
  wrn_40_1: buildWrn(40, 1),
  wrn_40_2: buildWrn(40, 2),
  wrn_16_4: buildWrn(16, 4),
  wrn_16_8: buildWrn(16, 8),
  wrn_28_2: buildWrn(28, 2),
  wrn_28_4: buildWrn(28, 4),
  wrn_28_10: buildWrn(28, 10),
  wrn_40_4: buildWrn(40, 4),
};
