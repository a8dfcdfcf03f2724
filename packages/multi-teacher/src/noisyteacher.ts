/**
 * Noisy teacher: B. B. Sau and V. N. Balasubramanian, "Deep Model Compression: Distilling Knowledge
 * from Noisy Teachers", arXiv:1610.09650, 2016 (https://arxiv.org/abs/1610.09650).
 *
 * One teacher simulates several: its logits are perturbed with Gaussian noise, and the student
 * regresses them (logit matching in the manner of Ba & Caruana's mimic learning). Each sample's
 * logits are perturbed with probability `alpha`, multiplicatively, z' = z * (1 + xi) with
 * xi ~ N(0, sigma^2) per logit (the paper shows this acts as a regulariser on the student):
 *   loss = beta * 1/(2B) sum_b || s_b - z'_b ||^2 + gamma * CE(s, y).
 * The noise comes from the run's Rng forked per epoch, so a resumed run repeats the perturbations.
 * Defaults: gamma = 0 (the student learns from the perturbed logits alone, as in the paper's
 * algorithm), beta = 1; sigma = 0.1 and alpha = 0.5 are ours (the paper tunes both).
 *
 * No public code from the authors (searched: the code corpus for the paper's title; only
 * third-party implementations, e.g. chengshengchan/model_compression and KD_Lib's NoisyTeacher).
 */
import { ConfigError, crossEntropy, defineMethod } from '@kdbench/core';
import { type Rng, tf } from '@kdbench/engine';
import { teacherAccuracies } from './shared/ensemble.js';
import { checkRange } from './shared/hyper.js';

/** z * (1 + xi) on the rows where `perturb` is 1, xi ~ N(0, sigma^2) per entry from `rng`. */
export function perturbLogits(z: tf.Tensor2D, sigma: number, alpha: number, rng: Rng): tf.Tensor2D {
  const [b, c] = z.shape;
  const factor = new Float32Array(b * c);
  for (let i = 0; i < b; i++) {
    const noisy = rng.next() < alpha;
    for (let j = 0; j < c; j++) factor[i * c + j] = noisy ? 1 + sigma * rng.normal() : 1;
  }
  return tf.tidy(() => tf.mul(z, tf.tensor2d(factor, [b, c])) as tf.Tensor2D);
}

/** 1/(2B) sum_b || s_b - t_b ||^2. */
export function logitRegression(s: tf.Tensor2D, t: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.div(tf.sum(tf.squaredDifference(s, t)), 2 * s.shape[0]) as tf.Scalar);
}

export const noisyteacher = defineMethod({
  id: 'noisyteacher',
  title: 'Noisy teacher: logits perturbed to simulate several teachers',
  paper: {
    authors: 'B. B. Sau, V. N. Balasubramanian',
    title: 'Deep Model Compression: Distilling Knowledge from Noisy Teachers',
    venue: 'arXiv',
    year: 2016,
    url: 'https://arxiv.org/abs/1610.09650',
  },
  family: 'multi-teacher',
  knowledge: 'response',
  scheme: 'offline',
  teacher: 'required',
  teacherOutputs: 'logits',
  defaults: { sigma: 0.1, alpha: 0.5, beta: 1, gamma: 0 },
  hyperDocs: {
    sigma: 'standard deviation of the multiplicative Gaussian noise xi on each teacher logit',
    alpha: 'probability that a sample\'s teacher logits are perturbed',
    beta: 'weight of the logit regression 1/(2B) sum ||s - z\'||^2',
    gamma: 'weight of the cross-entropy with labels (0 in the paper)',
  },
  deviations: 'The defaults of sigma (0.1) and alpha (0.5) are ours, not values tuned in the paper.',
  create: (ctx) => {
    const { hp } = ctx;
    if (!(hp.sigma >= 0)) throw new ConfigError(`method 'noisyteacher': sigma must be >= 0, got ${hp.sigma}`);
    checkRange('noisyteacher', 'alpha', hp.alpha, 0, 1);
    let rng: Rng = ctx.rng.fork(0);
    return {
      parts: { teachers: { onEpochStart: (epoch) => { rng = ctx.rng.fork(epoch); }, metrics: (evaluate) => teacherAccuracies([ctx.teacher], evaluate) } },
      losses: (io) => {
        const target = perturbLogits(io.teacher.logits, hp.sigma, hp.alpha, rng);
        const terms: Record<string, tf.Scalar> = { logits: tf.mul(logitRegression(io.student.logits, target), hp.beta) };
        if (hp.gamma > 0) terms.ce = tf.mul(crossEntropy(io.student.logits, io.labels), hp.gamma);
        return terms;
      },
    };
  },
});
