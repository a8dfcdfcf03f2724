/**
 * Trainable connector modules that distillation methods add to a run, built from the model zoo's
 * layers (PyTorch semantics and PyTorch's default initialisation, as the reference code
 * RepDistiller leaves these modules at their defaults). Each owns a ParamStore seeded from the
 * run's Rng (`moduleSeed`), exposes trainableVariables() and dispose(), and runs its batch norms
 * in training mode by default (RepDistiller puts every module in train() for the whole run).
 *
 * - ConvReg: FitNet's regressor (Romero 2015) as in RepDistiller: conv (1x1 for equal sizes,
 *   3x3/2 to halve, k=1+sH-tH to shrink, 4x4/2 transposed to double) + BN (+ ReLU).
 * - ConvStack: a small stack of convs with optional BN and (leaky) ReLU (VID's regressor, FT's
 *   paraphraser and translator, SemCKD's projections); `snapshot()` freezes a copy.
 * - Embed: linear + L2 normalisation; MLPEmbed: linear-ReLU-linear + L2 normalisation.
 * - Parameter: a free vector of parameters (VID's per-channel log-variance).
 * - ModuleGroup: several modules as one TrainableModule.
 */
import { tf, type Rng } from '@kdbench/engine';
import { layers, type FeatureShape } from '@kdbench/models';
import type { TrainableModule } from '../method.js';

/** A ParamStore seed for the module `label`, drawn from the run's Rng (independent of call order). */
export function moduleSeed(rng: Rng, label: string): number {
  return Math.floor(rng.fork(`module:${label}`).next() * 0x7fffffff);
}

/** A module whose variables live in one ParamStore. */
export abstract class ParamModule implements TrainableModule {
  protected readonly store: layers.ParamStore;
  protected readonly scope: layers.Scope;

  constructor(seed: number) {
    this.store = new layers.ParamStore(seed);
    this.scope = new layers.Scope(this.store);
  }

  trainableVariables(): tf.Variable[] {
    return this.store.entries.filter((e) => e.trainable).map((e) => e.variable);
  }

  dispose(): void {
    this.store.dispose();
  }
}

/** A free parameter vector (e.g. VID's log-variance), initialised to a constant. */
export class Parameter extends ParamModule {
  readonly value: tf.Variable;

  constructor(seed: number, size: number, init: number) {
    super(seed);
    this.value = this.scope.variable('value', [size], layers.constantInit(init));
  }
}

/** Several modules exposed as one. */
export class ModuleGroup implements TrainableModule {
  constructor(readonly members: readonly TrainableModule[]) {}

  trainableVariables(): tf.Variable[] {
    return this.members.flatMap((m) => m.trainableVariables());
  }

  dispose(): void {
    for (const m of this.members) m.dispose();
  }
}

/**
 * FitNet's convolutional regressor (RepDistiller ConvReg), mapping a student feature [B, sH, sW, sC]
 * to the teacher's [B, tH, tW, tC]: equal sizes -> 1x1 conv; sH = 2 tH -> 3x3 conv stride 2;
 * 2 sH = tH -> 4x4 transposed conv stride 2; sH > tH -> conv with kernel 1+sH-tH; then BN and,
 * with `relu`, ReLU. Other size pairs throw (as RepDistiller does).
 */
export class ConvReg extends ParamModule {
  private readonly conv: layers.Conv2d | null = null;
  private readonly up: { weight: tf.Variable; bias: tf.Variable; outShape: [number, number, number] } | null = null;
  private readonly bn: layers.BatchNorm;

  constructor(
    readonly s: FeatureShape,
    readonly t: FeatureShape,
    seed: number,
    readonly relu = true,
  ) {
    super(seed);
    const size = { h: s.height, w: s.width };
    const base = { inChannels: s.channels, outChannels: t.channels, bias: true, init: 'torch_default' as const };
    if (s.height === 2 * t.height && s.width === 2 * t.width) {
      this.conv = new layers.Conv2d(this.scope.child('conv'), { ...base, kernelSize: 3, stride: 2, padding: 1 }, size);
    } else if (2 * s.height === t.height && 2 * s.width === t.width) {
      // nn.ConvTranspose2d(sC, tC, 4, stride 2, padding 1); PyTorch's default init uses fan_in = tC*4*4
      const bound = layers.torchDefaultBound(t.channels * 16);
      const sc = this.scope.child('conv');
      this.up = {
        weight: sc.variable('weight', [4, 4, t.channels, s.channels], layers.uniformInit(bound)),
        bias: sc.variable('bias', [t.channels], layers.uniformInit(bound)),
        outShape: [t.height, t.width, t.channels],
      };
    } else if (s.height >= t.height && s.height - t.height === s.width - t.width) {
      this.conv = new layers.Conv2d(this.scope.child('conv'), { ...base, kernelSize: 1 + s.height - t.height }, size);
    } else {
      throw new Error(
        `ConvReg: no regressor from a ${s.height}x${s.width} student feature to a ${t.height}x${t.width} teacher feature ` +
          '(supported: equal, half, double or a smaller square teacher map)',
      );
    }
    this.bn = new layers.BatchNorm(this.scope.child('bn'), t.channels);
  }

  apply(x: tf.Tensor4D, training = true): tf.Tensor4D {
    return tf.tidy(() => {
      let y: tf.Tensor4D;
      if (this.conv) y = this.conv.apply(x);
      else {
        const u = this.up!;
        const out: [number, number, number, number] = [x.shape[0], ...u.outShape];
        y = tf.add(tf.conv2dTranspose(x, u.weight as tf.Tensor4D, out, 2, 'same'), u.bias);
      }
      y = this.bn.apply(y, training);
      return this.relu ? tf.relu(y) : y;
    });
  }
}

export type Activation = 'relu' | 'leaky' | 'none';

export interface ConvSpec {
  out: number;
  kernel: number;
  stride?: number;
  bias?: boolean;
  bn?: boolean;
  act?: Activation;
}

interface ConvLayer {
  conv: layers.Conv2d;
  bn: layers.BatchNorm | null;
  act: Activation;
}

/** A frozen copy of a ConvStack: same function, constant weights (no gradient reaches the original). */
export interface FrozenStack {
  apply(x: tf.Tensor4D): tf.Tensor4D;
  dispose(): void;
}

/** A stack of convolutions (padding (k-1)/2), each optionally followed by BN and (leaky) ReLU. */
export class ConvStack extends ParamModule {
  readonly layers: ConvLayer[] = [];
  readonly outChannels: number;

  constructor(
    inChannels: number,
    size: { h: number; w: number },
    specs: readonly ConvSpec[],
    seed: number,
    readonly leakySlope = 0.1,
  ) {
    super(seed);
    if (specs.length === 0) throw new Error('ConvStack needs at least one conv');
    let c = inChannels;
    let s = size;
    specs.forEach((sp, i) => {
      const conv = new layers.Conv2d(
        this.scope.child(`${i}.conv`),
        {
          inChannels: c, outChannels: sp.out, kernelSize: sp.kernel, stride: sp.stride ?? 1,
          padding: (sp.kernel - 1) >> 1, bias: sp.bias ?? true, init: 'torch_default',
        },
        s,
      );
      const bn = sp.bn ? new layers.BatchNorm(this.scope.child(`${i}.bn`), sp.out) : null;
      this.layers.push({ conv, bn, act: sp.act ?? 'none' });
      c = sp.out;
      s = conv.outSize;
    });
    this.outChannels = c;
  }

  private activate(y: tf.Tensor4D, act: Activation): tf.Tensor4D {
    return act === 'relu' ? tf.relu(y) : act === 'leaky' ? tf.leakyRelu(y, this.leakySlope) : y;
  }

  apply(x: tf.Tensor4D, training = true): tf.Tensor4D {
    return tf.tidy(() => {
      let y = x;
      for (const l of this.layers) {
        y = l.conv.apply(y);
        if (l.bn) y = l.bn.apply(y, training);
        y = this.activate(y, l.act);
      }
      return y;
    });
  }

  /**
   * A copy with the current weights as constants (batch norms in eval mode): for a module trained
   * in an earlier stage and only used, not optimised, afterwards (FT's paraphraser). Call outside
   * a gradient tape or inside one: the copy is built from values, so no gradient path leads back.
   */
  snapshot(): FrozenStack {
    const copy = (v: tf.Variable) => tf.keep(tf.tensor(v.dataSync(), v.shape, 'float32'));
    const frozen = this.layers.map((l) => ({
      w: copy(l.conv.weight) as tf.Tensor4D,
      b: l.conv.bias ? copy(l.conv.bias) : null,
      stride: l.conv.stride,
      pad: l.conv.padding,
      bn: l.bn ? { g: copy(l.bn.gamma), beta: copy(l.bn.beta), m: copy(l.bn.runningMean), v: copy(l.bn.runningVar) } : null,
      act: l.act,
    }));
    return {
      apply: (x) =>
        tf.tidy(() => {
          let y = x;
          for (const f of frozen) {
            y = tf.conv2d(y, f.w, f.stride, f.pad);
            if (f.b) y = tf.add(y, f.b);
            if (f.bn) {
              const scale = tf.mul(f.bn.g, tf.rsqrt(tf.add(f.bn.v, layers.BN_EPS)));
              y = tf.add(tf.mul(y, scale), tf.sub(f.bn.beta, tf.mul(f.bn.m, scale)));
            }
            y = this.activate(y, f.act);
          }
          return y;
        }),
      dispose: () => {
        for (const f of frozen) tf.dispose([f.w, ...(f.b ? [f.b] : []), ...(f.bn ? [f.bn.g, f.bn.beta, f.bn.m, f.bn.v] : [])]);
      },
    };
  }
}

/** Linear projection followed (by default) by L2 normalisation of each row. */
export class Embed extends ParamModule {
  private readonly linear: layers.Linear;

  constructor(dimIn: number, dimOut: number, seed: number, readonly normalize = true) {
    super(seed);
    this.linear = new layers.Linear(this.scope.child('linear'), dimIn, dimOut);
  }

  apply(x: tf.Tensor): tf.Tensor2D {
    return tf.tidy(() => {
      const y = this.linear.apply(tf.reshape(x, [x.shape[0]!, -1]) as tf.Tensor2D);
      return this.normalize ? l2Rows(y) : y;
    });
  }
}

/** Linear(dimIn, 2 dimOut) - ReLU - Linear(2 dimOut, dimOut) - L2 normalisation (SemCKD, CRD). */
export class MLPEmbed extends ParamModule {
  private readonly l1: layers.Linear;
  private readonly l2: layers.Linear;

  constructor(dimIn: number, dimOut: number, seed: number) {
    super(seed);
    this.l1 = new layers.Linear(this.scope.child('linear1'), dimIn, 2 * dimOut);
    this.l2 = new layers.Linear(this.scope.child('linear2'), 2 * dimOut, dimOut);
  }

  apply(x: tf.Tensor): tf.Tensor2D {
    return tf.tidy(() => l2Rows(this.l2.apply(tf.relu(this.l1.apply(tf.reshape(x, [x.shape[0]!, -1]) as tf.Tensor2D)))));
  }
}

/** x / ||x||_2 per row (the reference's Normalize(2), no epsilon). */
function l2Rows(x: tf.Tensor2D): tf.Tensor2D {
  return tf.div(x, tf.norm(x, 'euclidean', 1, true));
}
