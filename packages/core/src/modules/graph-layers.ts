/**
 * Small layers of the graph-based methods (packages/graph), built on the model zoo's parameter
 * store so their variables are seeded, named and checkpointed like every module:
 *
 * - `Dense`: a fully connected layer y = x W (+ b), optionally followed by batch normalisation over
 *   the batch and a ReLU, with the initialisers the authors' code uses: PyTorch's default, a
 *   truncated normal scaled by fan-out (TensorFlow's `variance_scaling_initializer(mode='FAN_OUT')`,
 *   MHGD) or Xavier-normal (DGL's TAGConv, HKD). `frozen()` gives a constant copy (batch norm in
 *   evaluation mode) for a layer trained in an earlier stage and only used afterwards.
 * - `MeanGraphConv`: the one-hop graph convolution g = W [x ; A x] + b of TAGConv (k = 1) with A the
 *   row-stochastic mean over each vertex's neighbours (`knnMeanMatrix`): DGL's symmetric
 *   normalisation reduces to that mean when every vertex has the same in-degree.
 */
import { tf, type Rng } from '@kdbench/engine';
import { layers } from '@kdbench/models';
import { ParamModule } from './connectors.js';

export type DenseInit =
  /** PyTorch's nn.Linear default: U(-1/sqrt(in), 1/sqrt(in)). */
  | { kind: 'torch_default' }
  /** TensorFlow contrib variance scaling, mode FAN_OUT, normal: truncated N(0, 1.3 factor / out) cut at 2 std. */
  | { kind: 'truncated_normal_fan_out'; factor: number }
  /** Xavier (Glorot) normal: N(0, gain^2 * 2 / (in + out)). */
  | { kind: 'xavier_normal'; gain: number };

export interface DenseOptions {
  readonly init: DenseInit;
  /** 'none': no bias; 'zero': zero-initialised; 'torch_default': U(-1/sqrt(in), 1/sqrt(in)). */
  readonly bias: 'none' | 'zero' | 'torch_default';
  /** Batch normalisation over the batch after the product (PyTorch BatchNorm1d semantics). */
  readonly bn?: boolean;
  readonly relu?: boolean;
}

/** Truncated normal N(0, std^2): draws beyond 2 std are drawn again (TensorFlow's truncated_normal). */
function truncatedNormalInit(std: number): (rng: Rng, size: number) => Float32Array {
  return (rng, size) => {
    const a = new Float32Array(size);
    for (let i = 0; i < size; i++) {
      let z = rng.normal();
      while (Math.abs(z) > 2) z = rng.normal();
      a[i] = std * z;
    }
    return a;
  };
}

function weightInit(init: DenseInit, fanIn: number, fanOut: number): (rng: Rng, size: number) => Float32Array {
  switch (init.kind) {
    case 'torch_default':
      return layers.uniformInit(layers.torchDefaultBound(fanIn));
    case 'truncated_normal_fan_out':
      return truncatedNormalInit(Math.sqrt((1.3 * init.factor) / fanOut));
    case 'xavier_normal':
      return layers.normalInit(init.gain * Math.sqrt(2 / (fanIn + fanOut)));
  }
}

/** A frozen copy of a layer: the same function with constant weights. */
export interface FrozenLayer {
  apply(x: tf.Tensor2D): tf.Tensor2D;
  dispose(): void;
}

/** x W (+ b), then optionally batch norm over the batch and ReLU. */
export class Dense extends ParamModule {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | null;
  readonly bn: layers.BatchNorm | null;

  constructor(readonly inFeatures: number, readonly outFeatures: number, seed: number, readonly opts: DenseOptions) {
    super(seed);
    if (!(Number.isInteger(inFeatures) && inFeatures >= 1 && Number.isInteger(outFeatures) && outFeatures >= 1)) {
      throw new Error(`Dense: sizes must be positive integers, got ${inFeatures} -> ${outFeatures}`);
    }
    this.weight = this.scope.variable('weight', [inFeatures, outFeatures], weightInit(opts.init, inFeatures, outFeatures));
    this.bias = opts.bias === 'none'
      ? null
      : this.scope.variable('bias', [outFeatures], opts.bias === 'zero' ? layers.constantInit(0) : layers.uniformInit(layers.torchDefaultBound(inFeatures)));
    this.bn = opts.bn ? new layers.BatchNorm(this.scope.child('bn'), outFeatures) : null;
  }

  /** [B, in] -> [B, out]; `training` selects batch statistics (and updates the running ones) or the running ones. */
  apply(x: tf.Tensor2D, training = true): tf.Tensor2D {
    return tf.tidy(() => {
      let y: tf.Tensor2D = tf.matMul(x, this.weight as tf.Tensor2D);
      if (this.bias) y = tf.add(y, this.bias);
      if (this.bn) y = tf.reshape(this.bn.apply(tf.reshape(y, [y.shape[0], 1, 1, this.outFeatures]) as tf.Tensor4D, training), [-1, this.outFeatures]);
      return this.opts.relu ? tf.relu(y) : y;
    });
  }

  /** A copy with the current values as constants and batch norm in evaluation mode; no gradient reaches this layer through it. */
  frozen(): FrozenLayer {
    const copy = (v: tf.Variable) => tf.keep(tf.tensor(v.dataSync(), v.shape, 'float32'));
    const w = copy(this.weight) as tf.Tensor2D;
    const b = this.bias ? copy(this.bias) : null;
    const bn = this.bn
      ? tf.tidy(() => {
        const s = this.bn!;
        const scale = tf.mul(s.gamma, tf.rsqrt(tf.add(s.runningVar, layers.BN_EPS)));
        return { scale: tf.keep(tf.tensor(scale.dataSync(), scale.shape)), shift: tf.keep(tf.tensor(tf.sub(s.beta, tf.mul(s.runningMean, scale)).dataSync(), scale.shape)) };
      })
      : null;
    const relu = this.opts.relu ?? false;
    return {
      apply: (x) => tf.tidy(() => {
        let y: tf.Tensor2D = tf.matMul(x, w);
        if (b) y = tf.add(y, b);
        if (bn) y = tf.add(tf.mul(y, bn.scale), bn.shift);
        return relu ? tf.relu(y) : y;
      }),
      dispose: () => tf.dispose([w, ...(b ? [b] : []), ...(bn ? [bn.scale, bn.shift] : [])]),
    };
  }
}

/** TAGConv with one hop: g = [x, A x] W + b, A [B, B] the neighbours' mean (`knnMeanMatrix`). */
export class MeanGraphConv {
  readonly linear: Dense;

  constructor(readonly features: number, readonly outFeatures: number, seed: number, init: DenseInit = { kind: 'xavier_normal', gain: Math.SQRT2 }) {
    this.linear = new Dense(2 * features, outFeatures, seed, { init, bias: 'torch_default' });
  }

  apply(x: tf.Tensor2D, meanMatrix: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => this.linear.apply(tf.concat([x, tf.matMul(meanMatrix, x)], 1) as tf.Tensor2D));
  }

  trainableVariables(): tf.Variable[] {
    return this.linear.trainableVariables();
  }

  dispose(): void {
    this.linear.dispose();
  }
}
