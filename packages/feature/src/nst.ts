/**
 * NST: Z. Huang, N. Wang, "Like What You Like: Knowledge Distill via Neuron Selectivity Transfer",
 * arXiv 2017 (arXiv:1707.01219).
 *
 * Each channel's spatial activation map, L2-normalised, is a sample of the layer's "neuron
 * selectivity" distribution; the student matches the teacher's distribution by minimising the
 * squared maximum mean discrepancy with the polynomial kernel k(x, y) = (x^T y + c)^d, d = 2,
 * c = 0 (the paper's best kernel):
 *   MMD^2 = mean k(f_t, f_t) + mean k(f_s, f_s) - 2 mean k(f_s, f_t).
 * As in the CRD benchmark (RepDistiller NSTLoss): every stage output (feat[1:-1]) is distilled,
 * the larger map of a pair is average-pooled to the smaller, the losses are summed and weighted
 * by beta = 50, with CE weight 1.
 */
import { crossEntropy, defineMethod, matchSpatial, polyKernelMMD, spatialNormalizedChannels, stagePairs } from '@kdbench/core';
import { tf } from '@kdbench/engine';

/** Per stage pair, the polynomial-kernel MMD^2 of channel-normalised features. */
export function nstLayerLosses(student: tf.Tensor4D[], teacher: tf.Tensor4D[]): tf.Scalar[] {
  return stagePairs(student, teacher).map(([s, t]) =>
    tf.tidy(() => {
      const [fs, ft] = matchSpatial(s, t);
      return polyKernelMMD(spatialNormalizedChannels(fs), spatialNormalizedChannels(ft));
    }),
  );
}

/** Sum over stage pairs of the polynomial-kernel MMD^2 of channel-normalised features. */
export function nstLoss(student: tf.Tensor4D[], teacher: tf.Tensor4D[]): tf.Scalar {
  return tf.tidy(() => tf.addN(nstLayerLosses(student, teacher)) as tf.Scalar);
}

export const nst = defineMethod({
  id: 'nst',
  title: 'Neuron selectivity transfer (polynomial-kernel MMD)',
  paper: {
    authors: 'Z. Huang, N. Wang',
    title: 'Like What You Like: Knowledge Distill via Neuron Selectivity Transfer',
    venue: 'arXiv',
    year: 2017,
    url: 'https://arxiv.org/abs/1707.01219',
  },
  family: 'feature',
  knowledge: 'feature',
  scheme: 'offline',
  teacher: 'required',
  defaults: { gamma: 1, beta: 50 },
  hyperDocs: {
    gamma: 'weight of the cross-entropy with labels',
    beta: 'weight of the summed MMD losses of the stage outputs',
  },
  deviations:
    'The paper distils one deep layer and adds KD; the CRD benchmark (followed here) applies NST to every stage output without KD. Pairs of different spatial size are average-pooled to the smaller (RepDistiller).',
  create: ({ hp }) => ({
    losses: (io) => ({
      ce: tf.mul(crossEntropy(io.student.logits, io.labels), hp.gamma),
      nst: tf.mul(
        nstLoss(io.student.features.map((f) => f.post), io.teacher.features.map((f) => f.post)),
        hp.beta,
      ),
    }),
  }),
});
