/**
 * DeepInversion: H. Yin, P. Molchanov, Z. Li, J. M. Alvarez, A. Mallya, D. Hoiem, N. K. Jha,
 * J. Kautz, "Dreaming to Distill: Data-free Knowledge Transfer via DeepInversion", CVPR 2020
 * (arXiv:1912.08795, https://arxiv.org/abs/1912.08795).
 *
 * Images are optimised directly (Adam on the pixels, from Gaussian noise) so that the teacher
 * classifies them as chosen targets y while the statistics of every batch-norm layer's input match
 * the running statistics stored in that layer:
 *   R(x) = CE(T(x~), y) + bn * sum_l (||mu_l(x~) - mu_l^BN||_2 + ||sigma2_l(x~) - sigma2_l^BN||_2)
 *          + tv * sum_d ||x~ shifted by d - x~||_2 + l2 * ||x~||_2 [+ competition * (1 - JS(S(x~), T(x~)))]
 * where x~ is x rolled by a random jitter of up to 2 pixels, the four d are the right, down and two
 * diagonal neighbours, and the optional last term is Adaptive DeepInversion's competition (JS of
 * softmax(./3) with probabilities clamped to [0.01, 0.99]): images on which the student disagrees.
 * The batch-norm statistics come from the model's forward hook `hooks.batchNorm` on the teacher in
 * eval mode. Targets cycle through the classes (the reference's [0..9]*25 + [0..5]). Each batch is
 * optimised for `iterations` steps (2000 in the paper) from fresh noise with a fresh Adam state, then
 * joins a bank of synthesised images; the student learns by KD (KL at temperature T) on batches
 * drawn from the bank (the batch in progress until the first one is done). No training image is
 * used: `data: 'none'`. Defaults: the reference's CIFAR-10 "paper parameters" (bn 10, lr 0.05,
 * tv 2.5e-5, l2 0, 2000 iterations).
 *
 * Checked against the authors' code: NVlabs/DeepInversion cifar10/deepinversion_cifar10.py
 * (DeepInversionFeatureHook, get_images) and cifar10/README.md @ 2413af1: the CE to the fixed
 * targets ([0..9] * 25 + [0..5]), the per-layer ||var - running_var||_2 + ||mean - running_mean||_2
 * with biased batch variance on each BN input, the four-direction TV norms, the L2 term, the jitter
 * roll of up to 2 pixels, the competition term (JS at T = 3, clamps 0.01..0.99, 1 - clamp(JS)),
 * Adam from fresh Gaussian noise with a reset state, and the README's paper parameters (bn 10,
 * lr 0.05, tv 2.5e-5, l2 0, 2000 iterations) match. The CIFAR script synthesises only; its student
 * KD (T = 3 here) is not in it.
 */
import { crossEntropy, defineMethod, softTargetKL } from '@kdbench/core';
import { tf } from '@kdbench/engine';
import type { Model } from '@kdbench/models';
import { Synthesis } from './shared/synthesis.js';

/** torch.roll of NHWC images by (dy, dx) pixels: out[i] = x[i - shift], wrapping around. */
export function roll2d(x: tf.Tensor4D, dy: number, dx: number): tf.Tensor4D {
  const along = (t: tf.Tensor4D, shift: number, axis: 1 | 2): tf.Tensor4D => {
    const n = t.shape[axis];
    const s = ((shift % n) + n) % n;
    if (s === 0) return t;
    const begin = (i: number): [number, number, number, number] => (axis === 1 ? [0, i, 0, 0] : [0, 0, i, 0]);
    const size = (k: number): [number, number, number, number] => (axis === 1 ? [-1, k, -1, -1] : [-1, -1, k, -1]);
    return tf.concat([tf.slice(t, begin(n - s), size(s)), tf.slice(t, begin(0), size(n - s))], axis);
  };
  return tf.tidy(() => along(along(x, dy, 1), dx, 2));
}

/**
 * DeepInversion's total-variation prior: the L2 norms (over the whole batch) of the differences
 * between each pixel and its right, lower, lower-left and lower-right neighbours, summed.
 */
export function totalVariation(x: tf.Tensor4D): tf.Scalar {
  return tf.tidy(() => {
    const [, h, w] = x.shape;
    const at = (y0: number, x0: number, hh: number, ww: number) => tf.slice(x, [0, y0, x0, 0], [-1, hh, ww, -1]);
    const norm = (d: tf.Tensor) => tf.sqrt(tf.sum(tf.square(d)));
    return tf.addN([
      norm(tf.sub(at(0, 0, h, w - 1), at(0, 1, h, w - 1))), // x[:, :, :-1] - x[:, :, 1:]
      norm(tf.sub(at(0, 0, h - 1, w), at(1, 0, h - 1, w))), // x[:, :-1] - x[:, 1:]
      norm(tf.sub(at(1, 0, h - 1, w - 1), at(0, 1, h - 1, w - 1))), // x[:, 1:, :-1] - x[:, :-1, 1:]
      norm(tf.sub(at(0, 0, h - 1, w - 1), at(1, 1, h - 1, w - 1))), // x[:, :-1, :-1] - x[:, 1:, 1:]
    ]) as tf.Scalar;
  });
}

/** ||running var - batch var||_2 + ||running mean - batch mean||_2 of one batch-norm layer. */
export function bnStatisticDistance(mean: tf.Tensor1D, variance: tf.Tensor1D, running: { mean: tf.Tensor; variance: tf.Tensor }): tf.Scalar {
  return tf.tidy(() => tf.add(
    tf.sqrt(tf.sum(tf.square(tf.sub(running.variance, variance)))),
    tf.sqrt(tf.sum(tf.square(tf.sub(running.mean, mean)))),
  ) as tf.Scalar);
}

/** Adaptive DeepInversion's competition term 1 - clamp(JS(P, Q), 0, 1) with P, Q at T = 3 clamped to [0.01, 0.99]. */
export function competitionTerm(student: tf.Tensor2D, teacher: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const b = student.shape[0];
    const p0 = tf.softmax(tf.div(student, 3));
    const q0 = tf.softmax(tf.div(teacher, 3));
    const m = tf.clipByValue(tf.mul(tf.add(p0, q0), 0.5), 0.01, 0.99);
    const p = tf.clipByValue(p0, 0.01, 0.99);
    const q = tf.clipByValue(q0, 0.01, 0.99);
    // KLDivLoss(log P, M), batch mean: sum M (log M - log P) / B
    const kl = (x: tf.Tensor) => tf.div(tf.sum(tf.mul(m, tf.sub(tf.log(m), tf.log(x)))), b);
    const js = tf.add(tf.mul(kl(p), 0.5), tf.mul(kl(q), 0.5));
    return tf.sub(1, tf.clipByValue(js, 0, 1)) as tf.Scalar;
  });
}

/** The teacher's batch-norm running statistics by layer name (what hooks.batchNorm reports). */
export function runningStatistics(model: Model): Map<string, { mean: tf.Variable; variance: tf.Variable }> {
  const byName = new Map(model.namedVariables().map((v) => [v.name, v.variable]));
  const out = new Map<string, { mean: tf.Variable; variance: tf.Variable }>();
  for (const [name, mean] of byName) {
    if (!name.endsWith('.running_mean')) continue;
    const layer = name.slice(0, -'.running_mean'.length);
    const variance = byName.get(`${layer}.running_var`);
    if (variance) out.set(layer, { mean, variance });
  }
  return out;
}

export const deepinv = defineMethod({
  id: 'deepinv',
  title: 'DeepInversion: images synthesised from the teacher\'s batch-norm statistics, then KD',
  paper: {
    authors: 'H. Yin, P. Molchanov, Z. Li, J. M. Alvarez, A. Mallya, D. Hoiem, N. K. Jha, J. Kautz',
    title: 'Dreaming to Distill: Data-free Knowledge Transfer via DeepInversion',
    venue: 'CVPR',
    year: 2020,
    url: 'https://arxiv.org/abs/1912.08795',
  },
  family: 'data-free',
  knowledge: 'response',
  scheme: 'offline',
  teacher: 'required',
  data: 'none',
  defaults: { bn: 10, tv: 2.5e-5, l2: 0, lr: 0.05, iterations: 2000, inversionSteps: 8, competition: 0, bank: 4096, T: 3 },
  hyperDocs: {
    bn: 'weight of the batch-norm statistic loss (r_feature)',
    tv: 'weight of the total-variation prior',
    l2: 'weight of the L2 norm of the images',
    lr: 'Adam learning rate of the pixels',
    iterations: 'Adam iterations per synthesised batch (2000 in the paper)',
    inversionSteps: 'inversion iterations run per student step (sets how the run budget splits between synthesis and distillation)',
    competition: "weight of Adaptive DeepInversion's competition term (0: plain DeepInversion)",
    bank: 'images kept for distillation (a ring of the latest synthesised batches)',
    T: 'KD temperature on the synthesised images',
  },
  smallHyper: { iterations: 2, inversionSteps: 1, bank: 64 },
  deviations:
    'Synthesis and distillation share the run budget: each student step runs `inversionSteps` inversion iterations and the ' +
    'student learns from the finished batches so far (the paper synthesises the whole set first); the last iterate is kept ' +
    '(the reference keeps the lowest-loss iterate); the student sees no augmentation of the synthesised images; ' +
    'synthesis batches have the protocol batch size (the paper: 256).',
  create: (ctx) => {
    const { hp } = ctx;
    const teacher = ctx.teacher;
    if (!(hp.iterations >= 1 && hp.inversionSteps >= 1 && hp.bank >= 1)) throw new Error('deepinv: iterations, inversionSteps and bank must be >= 1');
    const stats = runningStatistics(teacher);
    if (stats.size === 0) throw new Error(`deepinv: teacher ${teacher.id} has no batch-norm layers to invert`);
    const b = Math.max(2, ctx.batchSize);
    const shape: [number, number, number, number] = [b, 32, 32, 3];
    const noise = (batch: number) => {
      const r = ctx.rng.fork(`noise:${batch}`);
      return Float32Array.from({ length: b * 32 * 32 * 3 }, () => r.normal());
    };
    const pixels = tf.variable(tf.tensor4d(noise(0), shape), true);
    const m = tf.variable(tf.zeros(shape), false);
    const v = tf.variable(tf.zeros(shape), false);
    const bank = tf.variable(tf.zeros([hp.bank, 32, 32, 3]), false);
    /** [iterations done on the batch in progress, batches started, images in the bank]. */
    const state = tf.variable(tf.zeros([3]), false);
    const targets = tf.tensor1d(Array.from({ length: b }, (_, i) => i % ctx.numClasses), 'int32');
    const synthesis = new Synthesis({
      samples: (n) => tf.tidy(() => {
        const available = Math.min(state.dataSync()[2]!, hp.bank);
        const source = available > 0 ? tf.slice(bank, [0, 0, 0, 0], [available, -1, -1, -1]) : pixels;
        return tf.slice(source, [0, 0, 0, 0], [Math.min(n, source.shape[0]!), -1, -1, -1]) as tf.Tensor4D;
      }),
      dataset: ctx.dataset,
    });
    const meter = synthesis.meter;

    const invert = (epoch: number, step: number, k: number, t: number) => tf.tidy(() => {
      const r = ctx.rng.fork(epoch).fork(`jitter:${step}:${k}`);
      const dy = r.int(5) - 2;
      const dx = r.int(5) - 2;
      const kept: tf.Tensor[] = [];
      const { value, grads } = tf.variableGrads(() => {
        const x = roll2d(pixels as unknown as tf.Tensor4D, dy, dx);
        const out = teacher.forward(x, {
          training: false,
          hooks: { batchNorm: (layer, mean, variance) => {
            const s = stats.get(layer);
            if (s) kept.push(tf.keep(bnStatisticDistance(mean, variance, s)));
          } },
        });
        const terms = [crossEntropy(out.logits, targets), tf.mul(tf.addN(kept), hp.bn), tf.mul(totalVariation(x), hp.tv)];
        if (hp.l2 > 0) terms.push(tf.mul(tf.sqrt(tf.sum(tf.square(x))), hp.l2));
        if (hp.competition > 0) terms.push(tf.mul(competitionTerm(ctx.student.forward(x, { training: false }).logits, out.logits), hp.competition));
        return tf.addN(terms) as tf.Scalar;
      }, [pixels]);
      const g = grads[pixels.name]!;
      // Adam (PyTorch defaults: betas 0.9, 0.999, eps 1e-8), state reset for every new batch
      m.assign(tf.add(tf.mul(m, 0.9), tf.mul(g, 0.1)));
      v.assign(tf.add(tf.mul(v, 0.999), tf.mul(tf.square(g), 0.001)));
      const mHat = tf.div(m, 1 - 0.9 ** t);
      const vHat = tf.div(v, 1 - 0.999 ** t);
      pixels.assign(tf.sub(pixels, tf.mul(tf.div(mHat, tf.add(tf.sqrt(vHat), 1e-8)), hp.lr)));
      tf.dispose([value, g, ...kept]);
    });

    return {
      parts: {
        synthesis,
        inversion: {
          buffers: () => ({ pixels, adam_m: m, adam_v: v, bank, state }),
          metrics: () => ({ images_banked: Math.min(state.dataSync()[2]!, hp.bank) }),
          dispose: () => tf.dispose([pixels, m, v, bank, state, targets]),
        },
      },
      procedure: {
        syntheticBatch: (size, epoch, step) => {
          meter.close();
          return meter.time(0, () => {
            let [done, started, filled] = Array.from(state.dataSync()) as [number, number, number];
            for (let k = 0; k < hp.inversionSteps; k++) {
              if (done === 0) {
                started += 1;
                meter.count(b);
              }
              done += 1;
              invert(epoch, step, k, done);
              if (done >= hp.iterations) {
                // the batch is finished: into the bank (a ring), and a fresh batch from noise
                tf.tidy(() => {
                  const at = (filled % hp.bank);
                  const rows = Math.min(b, hp.bank - at);
                  const head = tf.slice(bank, [0, 0, 0, 0], [at, -1, -1, -1]);
                  const tail = tf.slice(bank, [at + rows, 0, 0, 0], [hp.bank - at - rows, -1, -1, -1]);
                  bank.assign(tf.concat([head, tf.slice(pixels, [0, 0, 0, 0], [rows, -1, -1, -1]), tail], 0));
                  pixels.assign(tf.tensor4d(noise(started), shape));
                  m.assign(tf.zerosLike(m));
                  v.assign(tf.zerosLike(v));
                });
                filled += Math.min(b, hp.bank - (filled % hp.bank));
                done = 0;
              }
            }
            tf.tidy(() => state.assign(tf.tensor1d([done, started, filled])));
            return tf.tidy(() => {
              const available = Math.min(filled, hp.bank);
              if (available === 0) return tf.slice(pixels, [0, 0, 0, 0], [size, -1, -1, -1]) as tf.Tensor4D;
              const r = ctx.rng.fork(epoch).fork(`rows:${step}`);
              return tf.gather(bank, tf.tensor1d(Array.from({ length: size }, () => r.int(available)), 'int32')) as tf.Tensor4D;
            });
          });
        },
      },
      losses: (io) => {
        meter.close();
        return { kd: softTargetKL(io.student.logits, io.teacher.logits, hp.T) };
      },
    };
  },
});
