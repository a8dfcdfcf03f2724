/**
 * VID: S. Ahn, S. X. Hu, A. Damianou, N. D. Lawrence, Z. Dai, "Variational Information
 * Distillation for Knowledge Transfer", CVPR 2019 (arXiv:1904.05835).
 *
 * Maximises a variational lower bound of the mutual information between teacher and student
 * features: the teacher feature t is modelled as Gaussian with mean mu(s), a regressor of the
 * student feature, and a learned per-channel variance sigma_c^2 = softplus(alpha_c) + eps; the
 * student and regressor minimise the negative log-likelihood
 *   mean over (B, C, H, W) of 0.5 * ((t - mu(s))^2 / sigma_c^2 + log sigma_c^2).
 * CRD benchmark settings (RepDistiller VIDLoss): every stage output (feat[1:-1]); mu = three 1x1
 * convs without bias, ReLU between, mid width = teacher channels; initial variance 5, eps 1e-5;
 * the larger map of a pair is average-pooled to the smaller; layer losses summed; beta = 1, CE 1.
 */
import { ConvStack, ModuleGroup, Parameter, crossEntropy, defineMethod, matchSpatial, moduleSeed, stagePairs, stageShapes } from '@kdbench/core';
import { tf } from '@kdbench/engine';

/** Gaussian NLL (constant dropped) of target under N(mean, variance per channel), averaged over all elements. */
export function gaussianNLL(mean: tf.Tensor4D, target: tf.Tensor4D, variance: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.mul(tf.add(tf.div(tf.squaredDifference(mean, target), variance), tf.log(variance)), 0.5)) as tf.Scalar);
}

export const vid = defineMethod({
  id: 'vid',
  title: 'Variational information distillation',
  paper: {
    authors: 'S. Ahn, S. X. Hu, A. Damianou, N. D. Lawrence, Z. Dai',
    title: 'Variational Information Distillation for Knowledge Transfer',
    venue: 'CVPR',
    year: 2019,
    url: 'https://arxiv.org/abs/1904.05835',
  },
  family: 'feature',
  knowledge: 'feature',
  scheme: 'offline',
  teacher: 'required',
  defaults: { gamma: 1, beta: 1, initVariance: 5, eps: 1e-5 },
  hyperDocs: {
    gamma: 'weight of the cross-entropy with labels',
    beta: 'weight of the summed VID losses of the stage outputs',
    initVariance: 'initial per-channel variance of the Gaussian',
    eps: 'floor added to the softplus variance',
  },
  deviations: 'Follows the CRD benchmark in tapping every stage output (the paper chooses layers per experiment).',
  create: ({ hp, studentShapes, teacherShapes, rng }) => {
    // softplus^-1(initVariance - eps), so that the initial variance is initVariance
    const alpha0 = Math.log(Math.exp(hp.initVariance - hp.eps) - 1);
    const heads = stagePairs(stageShapes(studentShapes), stageShapes(teacherShapes)).map(([s, t], i) => {
      const h = Math.min(s.height, t.height);
      const w = Math.min(s.width, t.width);
      const conv = (out: number, act: 'relu' | 'none') => ({ out, kernel: 1, bias: false, act });
      return {
        mu: new ConvStack(s.channels, { h, w }, [conv(t.channels, 'relu'), conv(t.channels, 'relu'), conv(t.channels, 'none')], moduleSeed(rng, `vid.mu${i}`)),
        logScale: new Parameter(moduleSeed(rng, `vid.scale${i}`), t.channels, alpha0),
      };
    });
    const group = new ModuleGroup(heads.flatMap((h) => [h.mu, h.logScale]));
    return {
      parts: { regressors: group },
      losses: (io) => {
        const pairs = stagePairs(io.student.features, io.teacher.features);
        const layers = pairs.map(([s, t], i) => {
          const [fs, ft] = matchSpatial(s.post, t.post);
          const variance = tf.add(tf.softplus(heads[i]!.logScale.value), hp.eps) as tf.Tensor1D;
          return gaussianNLL(heads[i]!.mu.apply(fs), ft, variance);
        });
        return {
          ce: tf.mul(crossEntropy(io.student.logits, io.labels), hp.gamma),
          vid: tf.mul(tf.addN(layers), hp.beta),
        };
      },
    };
  },
});
