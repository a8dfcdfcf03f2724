/**
 * A CIFAR network built from a genome, for architecture search (the NAS family, survey 5.9):
 * a 3x3 conv-BN-ReLU stem as wide as the first stage, then stages of residual blocks (He et al.,
 * CVPR 2016), global average pooling and a linear head. Each stage has its own
 *   depth (blocks), width (output channels at width factor 1), block type and kernel size:
 * - `basic`: k x k conv-BN-ReLU, k x k conv-BN, plus the shortcut, ReLU;
 * - `bottleneck`: 1x1 conv to width/4 channels (at least 1), BN-ReLU, k x k conv (carrying the
 *   stride), BN-ReLU, 1x1 conv to width, BN, plus the shortcut, ReLU;
 * the shortcut is the identity, or a strided 1x1 conv + BN when the shape changes (as the zoo's
 * ResNets). The first block of every stage after the first has stride 2. Convs pad (k-1)/2, so a
 * 32x32 input gives 32, 16, 8, ... whatever the kernel. Widths scale with the width factor like
 * the zoo's models (rounded, at least 1). Features follow the zoo's ResNets: stem, then each
 * stage's last block with its pre-ReLU sum.
 */
import { tf } from '@kdbench/engine';
import { BatchNorm, Conv2d, Linear, relu, type Scope, type Size2d } from '../layers/index.js';
import type { Model, ModelOptions } from '../types.js';
import {
  INPUT_SIZE, ZooModel, featureShape, scaleWidth, stagedForward, validateOptions, type BuildContext, type BuiltNet, type PreactBlock,
} from './base.js';

export type SearchBlock = 'basic' | 'bottleneck';

export interface SearchStage {
  readonly depth: number;
  readonly width: number;
  readonly block: SearchBlock;
  readonly kernel: number;
}

export interface SearchGenome {
  readonly stages: readonly SearchStage[];
}

/** A short stable name of a genome: one `<b|n><kernel>x<depth>w<width>` per stage (n = bottleneck). */
export function genomeKey(g: SearchGenome): string {
  return g.stages.map((s) => `${s.block === 'basic' ? 'b' : 'n'}${s.kernel}x${s.depth}w${s.width}`).join('-');
}

/** Channels of the middle convs of a bottleneck block of output width `width`. */
export function bottleneckWidth(width: number): number {
  return Math.max(1, Math.round(width / 4));
}

export function validateGenome(g: SearchGenome): void {
  if (!g || !Array.isArray(g.stages) || g.stages.length < 1) throw new Error('genome: needs at least one stage');
  g.stages.forEach((s, i) => {
    for (const k of ['depth', 'width', 'kernel'] as const) {
      if (!Number.isInteger(s[k]) || s[k] < 1) throw new Error(`genome stage ${i + 1}: ${k} must be a positive integer, got ${s[k]}`);
    }
    if (s.kernel % 2 !== 1) throw new Error(`genome stage ${i + 1}: kernel must be odd, got ${s.kernel}`);
    if (s.block !== 'basic' && s.block !== 'bottleneck') throw new Error(`genome stage ${i + 1}: unknown block '${String(s.block)}'`);
  });
}

class SearchBlockLayer implements PreactBlock {
  private readonly convs: { conv: Conv2d; bn: BatchNorm }[] = [];
  private readonly shortcut: { conv: Conv2d; bn: BatchNorm } | null;
  readonly outSize: Size2d;

  constructor(scope: Scope, block: SearchBlock, kernel: number, inCh: number, outCh: number, stride: number, inSize: Size2d) {
    const pad = (kernel - 1) / 2;
    const plan: [number, number, number, number][] = block === 'basic'
      ? [[inCh, outCh, kernel, stride], [outCh, outCh, kernel, 1]]
      : [[inCh, bottleneckWidth(outCh), 1, 1], [bottleneckWidth(outCh), bottleneckWidth(outCh), kernel, stride], [bottleneckWidth(outCh), outCh, 1, 1]];
    let size = inSize;
    plan.forEach(([i, o, k, s], n) => {
      const conv = new Conv2d(scope.child(`conv${n + 1}`), { inChannels: i, outChannels: o, kernelSize: k, stride: s, padding: k === 1 ? 0 : pad }, size);
      this.convs.push({ conv, bn: new BatchNorm(scope.child(`bn${n + 1}`), o) });
      size = conv.outSize;
    });
    this.outSize = size;
    if (stride !== 1 || inCh !== outCh) {
      const ds = scope.child('downsample');
      this.shortcut = {
        conv: new Conv2d(ds.child(0), { inChannels: inCh, outChannels: outCh, kernelSize: 1, stride }, inSize),
        bn: new BatchNorm(ds.child(1), outCh),
      };
    } else {
      this.shortcut = null;
    }
  }

  apply(x: tf.Tensor4D, training: boolean, withPreact = true): { out: tf.Tensor4D; preact?: tf.Tensor4D } {
    let h = x;
    const last = this.convs.length - 1;
    this.convs.slice(0, last).forEach(({ conv, bn }) => {
      h = bn.apply(conv.apply(h), training, { relu: true });
    });
    const residual = this.shortcut ? this.shortcut.bn.apply(this.shortcut.conv.apply(x), training) : x;
    const { conv, bn } = this.convs[last]!;
    if (!withPreact) return { out: bn.apply(conv.apply(h), training, { residual, relu: true }) };
    const preact = bn.apply(conv.apply(h), training, { residual });
    return { out: relu(preact), preact };
  }
}

function searchableBuilder(genome: SearchGenome) {
  return (ctx: BuildContext): BuiltNet => {
    const { scope } = ctx;
    const widths = genome.stages.map((s) => scaleWidth(s.width, ctx.widthFactor));
    const conv1 = new Conv2d(scope.child('conv1'), { inChannels: 3, outChannels: widths[0]!, kernelSize: 3, padding: 1 }, INPUT_SIZE);
    const bn1 = new BatchNorm(scope.child('bn1'), widths[0]!);
    const shapes = [featureShape('stem', widths[0]!, conv1.outSize)];
    let inCh = widths[0]!;
    let size = conv1.outSize;
    const stages = genome.stages.map((st, s) => {
      const blocks: SearchBlockLayer[] = [];
      for (let b = 0; b < st.depth; b++) {
        const block = new SearchBlockLayer(scope.child(`layer${s + 1}`).child(b), st.block, st.kernel, inCh, widths[s]!, b === 0 && s > 0 ? 2 : 1, size);
        blocks.push(block);
        inCh = widths[s]!;
        size = block.outSize;
      }
      shapes.push(featureShape(`stage${s + 1}`, inCh, size));
      return blocks;
    });
    const fc = new Linear(scope.child('fc'), inCh, ctx.numClasses);
    return {
      featureShapes: shapes,
      embeddingDim: inCh,
      classifier: fc,
      forward: (x, training) => stagedForward(x, training, { conv: conv1, bn: bn1 }, stages, fc),
    };
  };
}

/**
 * Trainable parameters and multiply-accumulates (one 32x32 image) of a genome's network, counted
 * without building it; equal to the built model's paramCount() and flops() (convs without bias,
 * batch-norm scale and shift, the head's weight and bias; MACs of convs and the head).
 */
export function genomeCounts(genome: SearchGenome, numClasses: number, widthFactor = 1): { params: number; macs: number } {
  validateGenome(genome);
  let params = 0;
  let macs = 0;
  const conv = (i: number, o: number, k: number, outSize: number) => {
    params += k * k * i * o;
    macs += outSize * outSize * o * i * k * k;
  };
  const bn = (c: number) => (params += 2 * c);
  const widths = genome.stages.map((s) => scaleWidth(s.width, widthFactor));
  let size = INPUT_SIZE.h;
  let inCh = widths[0]!;
  conv(3, inCh, 3, size);
  bn(inCh);
  genome.stages.forEach((st, s) => {
    const out = widths[s]!;
    for (let b = 0; b < st.depth; b++) {
      const stride = b === 0 && s > 0 ? 2 : 1;
      const outSize = Math.floor((size - 1) / stride) + 1;
      if (st.block === 'basic') {
        conv(inCh, out, st.kernel, outSize); bn(out);
        conv(out, out, st.kernel, outSize); bn(out);
      } else {
        const mid = bottleneckWidth(out);
        conv(inCh, mid, 1, size); bn(mid);
        conv(mid, mid, st.kernel, outSize); bn(mid);
        conv(mid, out, 1, outSize); bn(out);
      }
      if (stride !== 1 || inCh !== out) {
        conv(inCh, out, 1, outSize); bn(out);
      }
      inCh = out;
      size = outSize;
    }
  });
  params += inCh * numClasses + numClasses;
  macs += inCh * numClasses;
  return { params, macs };
}

/** Builds the network of a genome (id `searchable:<genomeKey>`). */
export function createSearchableModel(genome: SearchGenome, opts: ModelOptions): Model {
  validateGenome(genome);
  const id = `searchable:${genomeKey(genome)}`;
  return new ZooModel(id, validateOptions(id, opts), searchableBuilder(genome));
}
