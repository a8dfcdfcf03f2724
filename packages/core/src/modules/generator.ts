/**
 * The image generator of the generator-based data-free papers, in the form DAFL (Chen et al., ICCV
 * 2019) published for CIFAR and DFAD (Fang et al., 2019) reused as its "GeneratorA"; ZSKT
 * (Micaelli & Storkey, NeurIPS 2019) uses the same layout:
 *
 *   z [B, nz] -> linear -> [B, 8, 8, 2w] -> BN -> up x2 -> conv3x3 2w->2w -> BN(eps e) -> LeakyReLU(0.2)
 *   -> up x2 -> conv3x3 2w->w -> BN(eps e) -> LeakyReLU(0.2) -> conv3x3 w->3 [-> tanh] -> BN(no affine)
 *
 * with w = 64 in the papers. The batch norms always use batch statistics (the papers keep the
 * generator in training mode whenever it samples), so the generator carries no running statistics;
 * e = 0.8 reproduces DAFL's and DFAD's `BatchNorm2d(c, 0.8)`;
 * ZSKT uses the default 1e-5 and no tanh. The final affine-free batch norm
 * puts the images on the scale of normalised inputs. Upsampling is nearest-neighbour, written with
 * a broadcast so that its gradient exists on every backend.
 *
 * Shared by the data-free methods (DAFL, DFAD, ZSKT) and the adversarial package's ABM.
 */
import { moduleSeed, ParamModule } from './connectors.js';
import { tf, type Rng } from '@kdbench/engine';
import { layers } from '@kdbench/models';

export interface GeneratorOptions {
  /** Latent size nz. */
  readonly latent: number;
  /** Base width w (64 in the papers). */
  readonly width: number;
  /** Squash with tanh before the last batch norm (DAFL, DFAD: yes). */
  readonly tanh?: boolean;
  /** Output side (32 for CIFAR): the linear layer produces side/4 x side/4 maps. */
  readonly size?: number;
  /** eps of the two inner batch norms (DAFL/DFAD code: 0.8; ZSKT: PyTorch's default 1e-5). */
  readonly bnEps?: number;
}

/** Batch normalisation with batch statistics only (biased variance, as PyTorch's training mode). */
export function batchStatNorm(x: tf.Tensor4D, eps: number, gamma?: tf.Tensor, beta?: tf.Tensor): tf.Tensor4D {
  return tf.tidy(() => {
    const mean = tf.mean(x, [0, 1, 2]);
    const c = tf.sub(x, mean);
    const variance = tf.mean(tf.square(c), [0, 1, 2]);
    let y = tf.mul(c, tf.rsqrt(tf.add(variance, eps))) as tf.Tensor4D;
    if (gamma) y = tf.mul(y, gamma);
    if (beta) y = tf.add(y, beta);
    return y;
  });
}

/** Nearest-neighbour x2 upsampling of NHWC maps by broadcasting (differentiable everywhere). */
export function upsample2(x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const [b, h, w, c] = x.shape;
    const wide = tf.mul(tf.reshape(x, [b, h, 1, w, 1, c]), tf.ones([1, 1, 2, 1, 2, 1]));
    return tf.reshape(wide, [b, 2 * h, 2 * w, c]) as tf.Tensor4D;
  });
}

export class Generator extends ParamModule {
  readonly latent: number;
  private readonly init: number;
  private readonly linear: layers.Linear;
  private readonly conv1: layers.Conv2d;
  private readonly conv2: layers.Conv2d;
  private readonly conv3: layers.Conv2d;
  private readonly bn: { g: tf.Variable; b: tf.Variable }[];
  private readonly tanh: boolean;
  private readonly bnEps: number;

  constructor(seed: number, readonly opts: GeneratorOptions) {
    super(seed);
    const { latent, width } = opts;
    const size = opts.size ?? 32;
    if (!(Number.isInteger(latent) && latent > 0)) throw new Error(`Generator: latent size must be a positive integer, got ${latent}`);
    if (!(Number.isInteger(width) && width > 0)) throw new Error(`Generator: width must be a positive integer, got ${width}`);
    if (size % 4 !== 0) throw new Error(`Generator: output size ${size} is not a multiple of 4`);
    this.latent = latent;
    this.init = size / 4;
    this.tanh = opts.tanh ?? true;
    this.bnEps = opts.bnEps ?? 0.8;
    const s = this.scope;
    this.linear = new layers.Linear(s.child('l1'), latent, 2 * width * this.init * this.init);
    const conv = (name: string, cin: number, cout: number, side: number) =>
      new layers.Conv2d(s.child(name), { inChannels: cin, outChannels: cout, kernelSize: 3, padding: 1, bias: true, init: 'torch_default' }, { h: side, w: side });
    this.conv1 = conv('conv1', 2 * width, 2 * width, 2 * this.init);
    this.conv2 = conv('conv2', 2 * width, width, size);
    this.conv3 = conv('conv3', width, 3, size);
    const affine = (name: string, c: number) => ({
      g: s.variable(`${name}.weight`, [c], layers.constantInit(1)),
      b: s.variable(`${name}.bias`, [c], layers.constantInit(0)),
    });
    this.bn = [affine('bn0', 2 * width), affine('bn1', 2 * width), affine('bn2', width)];
  }

  /** Images [B, size, size, 3] for latent codes z [B, nz] (batch statistics: B must be > 1). */
  apply(z: tf.Tensor2D): tf.Tensor4D {
    if (z.shape[1] !== this.latent) throw new Error(`Generator: latent codes have ${z.shape[1]} dims, expected ${this.latent}`);
    if (z.shape[0] < 2) throw new Error('Generator: needs a batch of at least 2 codes (its batch norms use batch statistics)');
    return tf.tidy(() => {
      const [bn0, bn1, bn2] = this.bn as [typeof this.bn[0], typeof this.bn[0], typeof this.bn[0]];
      const b = z.shape[0];
      let x = tf.reshape(this.linear.apply(z), [b, this.init, this.init, -1]) as tf.Tensor4D;
      x = batchStatNorm(x, 1e-5, bn0.g, bn0.b);
      x = this.conv1.apply(upsample2(x));
      x = tf.leakyRelu(batchStatNorm(x, this.bnEps, bn1.g, bn1.b), 0.2);
      x = this.conv2.apply(upsample2(x));
      x = tf.leakyRelu(batchStatNorm(x, this.bnEps, bn2.g, bn2.b), 0.2);
      x = this.conv3.apply(x);
      if (this.tanh) x = tf.tanh(x);
      return batchStatNorm(x, 1e-5);
    });
  }

  /** n standard-normal latent codes drawn from `rng`. */
  codes(rng: Rng, n: number): tf.Tensor2D {
    const v = new Float32Array(n * this.latent);
    for (let i = 0; i < v.length; i++) v[i] = rng.normal();
    return tf.tensor2d(v, [n, this.latent]);
  }

  /** Images from n fresh codes of `rng`. */
  sample(rng: Rng, n: number): tf.Tensor4D {
    return tf.tidy(() => this.apply(this.codes(rng, n)));
  }
}

/** A generator seeded from the run's Rng under `label`. */
export function makeGenerator(rng: Rng, label: string, opts: GeneratorOptions): Generator {
  return new Generator(moduleSeed(rng, label), opts);
}
