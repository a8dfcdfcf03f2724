/**
 * GAN pieces the adversarial methods share: the two standard objectives on discriminator scores
 * (logits) and small discriminators.
 *
 * - `bceWithLogits(z, target)`: mean binary cross-entropy of sigmoid(z) against 1 (real) or 0
 *   (fake), computed stably as softplus(-z) resp. softplus(z) (PyTorch's BCEWithLogitsLoss).
 *   The discriminator minimises bce(D(real), 1) + bce(D(fake), 0); a network that fools it
 *   minimises bce(D(fake), 1) (the non-saturating generator loss of Goodfellow et al. 2014).
 * - `leastSquares(z, target)`: mean (z - target)^2, the least-squares GAN objective (Mao et al. 2017).
 * - `MlpDiscriminator`: linear layers with LeakyReLU(0.2) between them (logit and feature discriminators).
 * - `ConvDiscriminator`: stride-2 3x3 convolutions with LeakyReLU(0.2), global average pooling, a
 *   linear score (feature-map discriminators).
 * - `discriminatorAccuracy`: the fraction of real scores > 0 and fake scores < 0.
 * - `featureDiscriminatorOptimizer`: SGD for discriminators on features (MEAL's official code).
 * Discriminators carry no batch norm, so they have no running statistics to checkpoint.
 */
import { ParamModule, type OptimizerSpec } from '@kdbench/core';
import { tf } from '@kdbench/engine';
import { layers } from '@kdbench/models';

export function bceWithLogits(logits: tf.Tensor, target: 0 | 1): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.softplus(target === 1 ? tf.neg(logits) : logits)) as tf.Scalar);
}

export function leastSquares(scores: tf.Tensor, target: 0 | 1): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.square(tf.sub(scores, target))) as tf.Scalar);
}

/** Fraction of correct decisions: real scores > 0 and fake scores < 0 (for least squares pass threshold 0.5). */
export function discriminatorAccuracy(real: tf.Tensor, fake: tf.Tensor, threshold = 0): number {
  return tf.tidy(() => {
    const right = tf.add(tf.sum(tf.cast(tf.greater(real, threshold), 'float32')), tf.sum(tf.cast(tf.less(fake, threshold), 'float32')));
    return right.dataSync()[0]! / (real.size + fake.size);
  });
}

/**
 * The discriminator optimiser of MEAL's official code (github.com/AaronHeee/MEAL, main.py): SGD with
 * momentum 0.9 and weight decay 5e-4 at its own rate (d_lr, 1e-3 in its README), scaled by the
 * networks' schedule. Measured here (3 quick epochs, resnet20 -> resnet8): feature discriminators
 * trained with Adam at 2e-4 separate teacher from student features by the third epoch, after which
 * the student's non-saturating term grows (0.8 -> 2.9) and outweighs its other losses.
 */
export function featureDiscriminatorOptimizer(lr: number): OptimizerSpec {
  return { kind: 'sgd', lr, momentum: 0.9, weightDecay: 5e-4, schedule: true };
}

export class MlpDiscriminator extends ParamModule {
  private readonly layers: layers.Linear[] = [];

  /** Sizes [in, hidden..., out]. */
  constructor(seed: number, readonly sizes: readonly number[]) {
    super(seed);
    if (sizes.length < 2 || sizes.some((n) => !(Number.isInteger(n) && n > 0))) {
      throw new Error(`MlpDiscriminator: sizes must be >= 2 positive integers, got [${sizes}]`);
    }
    for (let i = 0; i + 1 < sizes.length; i++) this.layers.push(new layers.Linear(this.scope.child(`fc${i}`), sizes[i]!, sizes[i + 1]!));
  }

  apply(x: tf.Tensor2D): tf.Tensor2D {
    if (x.shape[1] !== this.sizes[0]) throw new Error(`MlpDiscriminator: input has ${x.shape[1]} features, expected ${this.sizes[0]}`);
    return tf.tidy(() => this.layers.reduce((h, l, i) => {
      const y = l.apply(h);
      return i + 1 < this.layers.length ? tf.leakyRelu(y, 0.2) : y;
    }, x));
  }
}

export class ConvDiscriminator extends ParamModule {
  private readonly convs: layers.Conv2d[] = [];
  private readonly head: layers.Linear;

  /** `depth` stride-2 convs of `width` channels on [B, h, w, channels] maps. */
  constructor(seed: number, readonly input: { h: number; w: number; channels: number }, width: number, depth = 2) {
    super(seed);
    let size = { h: input.h, w: input.w };
    let c = input.channels;
    for (let i = 0; i < depth; i++) {
      const conv = new layers.Conv2d(this.scope.child(`conv${i}`), { inChannels: c, outChannels: width, kernelSize: 3, stride: 2, padding: 1, bias: true, init: 'torch_default' }, size);
      this.convs.push(conv);
      size = conv.outSize;
      c = width;
    }
    this.head = new layers.Linear(this.scope.child('head'), c, 1);
  }

  apply(x: tf.Tensor4D): tf.Tensor2D {
    const [, h, w, c] = x.shape;
    if (h !== this.input.h || w !== this.input.w || c !== this.input.channels) {
      throw new Error(`ConvDiscriminator: input [${h}, ${w}, ${c}] differs from [${this.input.h}, ${this.input.w}, ${this.input.channels}]`);
    }
    return tf.tidy(() => {
      const y = this.convs.reduce((a, conv) => tf.leakyRelu(conv.apply(a), 0.2), x);
      return this.head.apply(tf.mean(y, [1, 2]) as tf.Tensor2D);
    });
  }
}
