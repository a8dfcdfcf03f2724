/**
 * Fully connected layer y = x W + b on [B, in] inputs. The weight is stored [in, out].
 * Default init is PyTorch's nn.Linear default (U(-1/sqrt(in), 1/sqrt(in)) for weight and bias);
 * RepDistiller overrides it for some nets (VGG, MobileNetV2: N(0, 0.01) weight, zero bias;
 * WRN: default weight, zero bias), which `LinearInit` expresses.
 */
import { tf } from '@kdbench/engine';
import type { Scope } from './store.js';
import { activeHooks } from './hooks.js';
import { constantInit, normalInit, torchDefaultBound, uniformInit } from './init.js';

export type LinearInit =
  | { kind: 'torch_default' }
  | { kind: 'torch_default_zero_bias' }
  | { kind: 'normal'; std: number };

export class Linear {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;
  readonly macs: number;
  /** Stable layer name (the scope prefix), as forward hooks see it. */
  readonly name: string;

  constructor(
    scope: Scope,
    readonly inFeatures: number,
    readonly outFeatures: number,
    init: LinearInit = { kind: 'torch_default' },
  ) {
    this.name = scope.prefix;
    const bound = torchDefaultBound(inFeatures);
    const wInit = init.kind === 'normal' ? normalInit(init.std) : uniformInit(bound);
    const bInit = init.kind === 'torch_default' ? uniformInit(bound) : constantInit(0);
    this.weight = scope.variable('weight', [inFeatures, outFeatures], wInit);
    this.bias = scope.variable('bias', [outFeatures], bInit);
    this.macs = inFeatures * outFeatures;
    scope.addMacs(this.macs);
  }

  apply(input: tf.Tensor2D): tf.Tensor2D {
    const hooks = activeHooks();
    const x = (hooks?.input ? hooks.input(this.name, input, 'linear') : input) as tf.Tensor2D;
    const weight = (hooks?.weight ? hooks.weight(this.name, this.weight, 'linear') : this.weight) as tf.Tensor2D;
    return tf.add(tf.matMul(x, weight), this.bias);
  }
}
