/**
 * AT: S. Zagoruyko, N. Komodakis, "Paying More Attention to Attention: Improving the Performance
 * of Convolutional Neural Networks via Attention Transfer", ICLR 2017 (arXiv:1612.03928).
 *
 * A layer's spatial attention map is the channel statistic Q = mean_c |f_c|^p (p = 2),
 * vectorised and L2-normalised; the student matches the teacher's maps at the end of each stage:
 *   loss = gamma * CE + beta * sum_layers mean_(b, hw) (Q_s/||Q_s|| - Q_t/||Q_t||)^2.
 * As in the CRD benchmark (RepDistiller Attention): every stage output (feat[1:-1], after the
 * ReLU), the squared difference averaged over batch and positions, the larger map of a pair
 * average-pooled to the smaller, beta = 1000, CE weight 1.
 */
import { attentionMap, crossEntropy, defineMethod, matchSpatial, stagePairs } from '@kdbench/core';
import { tf } from '@kdbench/engine';

/** Per stage pair, the mean squared difference of the normalised attention maps. */
export function atLayerLosses(student: tf.Tensor4D[], teacher: tf.Tensor4D[], p = 2): tf.Scalar[] {
  return stagePairs(student, teacher).map(([s, t]) =>
    tf.tidy(() => {
      const [fs, ft] = matchSpatial(s, t);
      return tf.mean(tf.squaredDifference(attentionMap(fs, p), attentionMap(ft, p))) as tf.Scalar;
    }),
  );
}

/** Sum over stage pairs of the mean squared difference of the normalised attention maps. */
export function atLoss(student: tf.Tensor4D[], teacher: tf.Tensor4D[], p = 2): tf.Scalar {
  return tf.tidy(() => tf.addN(atLayerLosses(student, teacher, p)) as tf.Scalar);
}

export const at = defineMethod({
  id: 'at',
  title: 'Attention transfer (activation-based spatial attention maps)',
  paper: {
    authors: 'S. Zagoruyko, N. Komodakis',
    title: 'Paying More Attention to Attention: Improving the Performance of Convolutional Neural Networks via Attention Transfer',
    venue: 'ICLR',
    year: 2017,
    url: 'https://arxiv.org/abs/1612.03928',
  },
  family: 'attention',
  knowledge: 'feature',
  scheme: 'offline',
  teacher: 'required',
  defaults: { gamma: 1, beta: 1000, p: 2 },
  hyperDocs: {
    gamma: 'weight of the cross-entropy with labels',
    beta: 'weight of the summed attention-map losses',
    p: 'exponent of the channel statistic mean_c |f|^p',
  },
  deviations:
    'Follows the CRD benchmark: squared distance averaged over positions (the paper writes beta/2 times the p-norm of the map difference) and no KD term.',
  create: ({ hp }) => ({
    losses: (io) => ({
      ce: tf.mul(crossEntropy(io.student.logits, io.labels), hp.gamma),
      at: tf.mul(atLoss(io.student.features.map((f) => f.post), io.teacher.features.map((f) => f.post), hp.p), hp.beta),
    }),
  }),
});
