/**
 * He et al.'s ImageNet ResNets ("Deep Residual Learning for Image Recognition", CVPR 2016,
 * Table 1) in the CIFAR form most KD papers use (kuangliu/pytorch-cifar models/resnet.py;
 * RepDistiller models/resnetv2.py, the CRD benchmark's `ResNet50`; TOFD's and Tf-KD's
 * resnet.py): a 3x3 stride-1 conv-BN-ReLU stem with 64 channels and no max pool, four stages of
 * basic blocks (ResNet-18/34) or bottlenecks (ResNet-50/152, expansion 4) with widths
 * 64/128/256/512 at 32/16/8/4 pixels (stride 2 in the first block of stages 2-4, on the 3x3 conv),
 * a 1x1-conv + BN projection shortcut whenever the shape changes, global average pooling and a
 * linear head. Convs: Kaiming normal fan_out (RepDistiller's init); Linear: PyTorch default.
 *
 * The same builder gives
 * - ResNeXt-50 (32x4d) (Xie et al., "Aggregated Residual Transformations for Deep Neural
 *   Networks", CVPR 2017) in that CIFAR form: bottlenecks with 32-group 3x3 convs of width
 *   floor(planes * 4 / 64) * 32 (torchvision's `resnext50_32x4d` layout);
 * - the plain CNNs of JointRD (Li et al., "Residual Distillation: Towards Portable Deep Neural
 *   Networks without Shortcuts", NeurIPS 2020; leoozy/JointRD_Neurips2020 model/resnet_cifar.py):
 *   ResNet-18/34 with every shortcut removed. JointRD's module still builds the projection
 *   shortcuts of a stage's first block but never calls them; here they are not built.
 *
 * Features (RepDistiller's `is_feat` / `preact` lists): stem pre = BN output, post = after ReLU;
 * stage i pre = the last block's residual sum before its ReLU, post = after the ReLU.
 */
import type { tf } from '@kdbench/engine';
import { BatchNorm, Conv2d, Linear, relu, type Scope, type Size2d } from '../layers/index.js';
import { BasicBlock } from './resnet.js';
import { INPUT_SIZE, buildStages, scaleWidth, stagedPasses, type BuildContext, type BuiltNet, type NetBuilder, type PreactBlock } from './base.js';

/**
 * Bottleneck block: 1x1 conv to `width` - BN - ReLU - 3x3 conv (stride, `groups` groups) - BN -
 * ReLU - 1x1 conv to `outPlanes` - BN, plus the input (or its 1x1-conv + BN projection when the
 * shape changes), then ReLU.
 */
export class Bottleneck implements PreactBlock {
  private readonly convs: [Conv2d, Conv2d, Conv2d];
  private readonly bns: [BatchNorm, BatchNorm, BatchNorm];
  private readonly downsample: { conv: Conv2d; bn: BatchNorm } | null;
  readonly outSize: Size2d;

  constructor(scope: Scope, inPlanes: number, width: number, outPlanes: number, stride: number, groups: number, inSize: Size2d) {
    const conv1 = new Conv2d(scope.child('conv1'), { inChannels: inPlanes, outChannels: width, kernelSize: 1 }, inSize);
    const conv2 = new Conv2d(scope.child('conv2'), { inChannels: width, outChannels: width, kernelSize: 3, stride, padding: 1, groups }, conv1.outSize);
    const conv3 = new Conv2d(scope.child('conv3'), { inChannels: width, outChannels: outPlanes, kernelSize: 1 }, conv2.outSize);
    this.convs = [conv1, conv2, conv3];
    this.bns = [new BatchNorm(scope.child('bn1'), width), new BatchNorm(scope.child('bn2'), width), new BatchNorm(scope.child('bn3'), outPlanes)];
    this.outSize = conv3.outSize;
    if (stride !== 1 || inPlanes !== outPlanes) {
      const ds = scope.child('downsample');
      this.downsample = {
        conv: new Conv2d(ds.child(0), { inChannels: inPlanes, outChannels: outPlanes, kernelSize: 1, stride }, inSize),
        bn: new BatchNorm(ds.child(1), outPlanes),
      };
    } else {
      this.downsample = null;
    }
  }

  /** The batch norm ending the residual branch (bn3): its output plus the shortcut reaches the block's last ReLU. */
  get lastNorm(): BatchNorm {
    return this.bns[2];
  }

  /** Returns the block output and (unless `withPreact` is false) its residual sum before the last ReLU. */
  apply(x: tf.Tensor4D, training: boolean, withPreact = true): { out: tf.Tensor4D; preact?: tf.Tensor4D } {
    const [c1, c2, c3] = this.convs;
    const [b1, b2, b3] = this.bns;
    let h = b1.apply(c1.apply(x), training, { relu: true });
    h = c3.apply(b2.apply(c2.apply(h), training, { relu: true }));
    const residual = this.downsample ? this.downsample.bn.apply(this.downsample.conv.apply(x), training) : x;
    if (!withPreact) return { out: b3.apply(h, training, { residual, relu: true }) };
    const preact = b3.apply(h, training, { residual });
    return { out: relu(preact), preact };
  }
}

export interface ImagenetResNetConfig {
  readonly block: 'basic' | 'bottleneck';
  /** Blocks per stage (four stages). */
  readonly blocks: readonly [number, number, number, number];
  /** false: no shortcuts (plain CNN; basic blocks only). */
  readonly residual?: boolean;
  /** Groups of the bottleneck's 3x3 conv and the width of each group (ResNeXt); 1 and 64 for ResNet. */
  readonly groups?: number;
  readonly widthPerGroup?: number;
}

const PLANES = [64, 128, 256, 512] as const;

export function buildImagenetResNet(cfg: ImagenetResNetConfig): NetBuilder {
  const residual = cfg.residual ?? true;
  const groups = cfg.groups ?? 1;
  const widthPerGroup = cfg.widthPerGroup ?? 64;
  if (!residual && cfg.block !== 'basic') throw new Error('plain (shortcut-free) nets are built from basic blocks');
  return (ctx: BuildContext): BuiltNet => {
    const { scope } = ctx;
    const stem = scaleWidth(64, ctx.widthFactor);
    const conv1 = new Conv2d(scope.child('conv1'), { inChannels: 3, outChannels: stem, kernelSize: 3, padding: 1 }, INPUT_SIZE);
    const bn1 = new BatchNorm(scope.child('bn1'), stem);
    const outs = PLANES.map((planes) => scaleWidth(cfg.block === 'basic' ? planes : planes * 4, ctx.widthFactor));
    const widths = PLANES.map((planes) => scaleWidth(Math.floor((planes * widthPerGroup) / 64) * groups, ctx.widthFactor, groups));
    const { stages, shapes, planes: inPlanes } = buildStages<BasicBlock | Bottleneck>(stem, conv1.outSize, cfg.blocks, (s, b, inPlanes, size) => {
      const stride = b === 0 && s > 0 ? 2 : 1;
      const blockScope = scope.child(`layer${s + 1}`).child(b);
      const block = cfg.block === 'basic'
        ? new BasicBlock(blockScope, inPlanes, outs[s]!, stride, size, residual)
        : new Bottleneck(blockScope, inPlanes, widths[s]!, outs[s]!, stride, groups, size);
      return { block, out: outs[s]! };
    });
    const fc = new Linear(scope.child('fc'), inPlanes, ctx.numClasses);
    return {
      featureShapes: shapes,
      embeddingDim: inPlanes,
      classifier: fc,
      ...stagedPasses({ conv: conv1, bn: bn1 }, stages, fc),
      preReluNorms: [bn1, ...stages.map((blocks) => blocks.at(-1)!.lastNorm)],
    };
  };
}

export const imagenetResNetBuilders: Record<string, NetBuilder> = {
  resnet18: buildImagenetResNet({ block: 'basic', blocks: [2, 2, 2, 2] }),
  resnet34: buildImagenetResNet({ block: 'basic', blocks: [3, 4, 6, 3] }),
  resnet50: buildImagenetResNet({ block: 'bottleneck', blocks: [3, 4, 6, 3] }),
  resnet152: buildImagenetResNet({ block: 'bottleneck', blocks: [3, 8, 36, 3] }),
  resnext50_32x4d: buildImagenetResNet({ block: 'bottleneck', blocks: [3, 4, 6, 3], groups: 32, widthPerGroup: 4 }),
  plaincnn18: buildImagenetResNet({ block: 'basic', blocks: [2, 2, 2, 2], residual: false }),
  plaincnn34: buildImagenetResNet({ block: 'basic', blocks: [3, 4, 6, 3], residual: false }),
};
