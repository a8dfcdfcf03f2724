/**
 * 2-D convolution on NHWC tensors with PyTorch semantics: symmetric zero padding, integer
 * stride, channel groups (grouped convolution as in ShuffleNet, Zhang et al., CVPR 2018, and
 * depthwise convolution as in MobileNetV2, Sandler et al., CVPR 2018), no bias by default.
 *
 * The weight is stored HWIO, [k, k, in/groups, out], for every group count; output channel o
 * belongs to group floor(o / (out/groups)) as in PyTorch. Depthwise convs (groups = in = out)
 * run on tf.depthwiseConv2d; other grouped convs split the channels and concatenate.
 */
import { tf } from '@kdbench/engine';
import type { Scope, Size2d } from './store.js';
import { activeHooks } from './hooks.js';
import { constantInit, kaimingFanOutStd, normalInit, torchDefaultBound, uniformInit } from './init.js';

/** 'kaiming_fan_out': N(0, 2/(k*k*out)), bias 0; 'torch_default': PyTorch's uniform default. */
export type ConvInit = 'kaiming_fan_out' | 'torch_default';

export interface Conv2dOptions {
  inChannels: number;
  outChannels: number;
  kernelSize: number;
  stride?: number;
  padding?: number;
  groups?: number;
  bias?: boolean;
  init?: ConvInit;
}

export class Conv2d {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | null;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: number;
  readonly stride: number;
  readonly padding: number;
  readonly groups: number;
  /** Output spatial size for the input size given at construction. */
  readonly outSize: Size2d;
  /** Multiply-accumulates for that input size (one image). */
  readonly macs: number;
  /** Stable layer name (the scope prefix), as forward hooks see it. */
  readonly name: string;

  constructor(scope: Scope, opts: Conv2dOptions, inSize: Size2d) {
    this.name = scope.prefix;
    const { inChannels, outChannels, kernelSize } = opts;
    const stride = opts.stride ?? 1;
    const padding = opts.padding ?? 0;
    const groups = opts.groups ?? 1;
    for (const [k, v] of Object.entries({ inChannels, outChannels, kernelSize, stride, groups })) {
      if (!Number.isInteger(v) || v < 1) throw new Error(`Conv2d ${scope.prefix}: ${k} must be a positive integer, got ${v}`);
    }
    if (!Number.isInteger(padding) || padding < 0) throw new Error(`Conv2d ${scope.prefix}: bad padding ${padding}`);
    if (inChannels % groups !== 0 || outChannels % groups !== 0) {
      throw new Error(
        `Conv2d ${scope.prefix}: groups=${groups} must divide inChannels=${inChannels} and outChannels=${outChannels}`,
      );
    }
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = kernelSize;
    this.stride = stride;
    this.padding = padding;
    this.groups = groups;

    const inPerGroup = inChannels / groups;
    const fanIn = inPerGroup * kernelSize * kernelSize;
    const init = opts.init ?? 'kaiming_fan_out';
    const wInit =
      init === 'kaiming_fan_out'
        ? normalInit(kaimingFanOutStd(kernelSize, outChannels))
        : uniformInit(torchDefaultBound(fanIn));
    this.weight = scope.variable('weight', [kernelSize, kernelSize, inPerGroup, outChannels], wInit);
    this.bias = opts.bias
      ? scope.variable('bias', [outChannels], init === 'kaiming_fan_out' ? constantInit(0) : uniformInit(torchDefaultBound(fanIn)))
      : null;

    const out = (n: number) => Math.floor((n + 2 * padding - kernelSize) / stride) + 1;
    this.outSize = { h: out(inSize.h), w: out(inSize.w) };
    if (this.outSize.h < 1 || this.outSize.w < 1) {
      throw new Error(`Conv2d ${scope.prefix}: input ${inSize.h}x${inSize.w} too small`);
    }
    this.macs = this.outSize.h * this.outSize.w * outChannels * fanIn;
    scope.addMacs(this.macs);
  }

  apply(input: tf.Tensor4D): tf.Tensor4D {
    const { stride: s, padding: p, groups: g } = this;
    const hooks = activeHooks();
    const x = (hooks?.input ? hooks.input(this.name, input, 'conv') : input) as tf.Tensor4D;
    const weight = (hooks?.weight ? hooks.weight(this.name, this.weight, 'conv') : this.weight) as tf.Tensor4D;
    let y: tf.Tensor4D;
    if (g === 1) {
      y = tf.conv2d(x, weight, s, p);
    } else if (g === this.inChannels && g === this.outChannels) {
      const k = this.kernelSize;
      const w = tf.reshape(weight, [k, k, g, 1]) as tf.Tensor4D;
      y = tf.depthwiseConv2d(x, w, s, p);
    } else {
      const xs = tf.split(x, g, 3) as tf.Tensor4D[];
      const ws = tf.split(weight, g, 3) as tf.Tensor4D[];
      y = tf.concat(xs.map((xi, i) => tf.conv2d(xi, ws[i]!, s, p)), 3);
    }
    return this.bias ? tf.add(y, this.bias) : y;
  }
}
