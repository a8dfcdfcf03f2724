/**
 * PKT: N. Passalis and A. Tefas, "Learning Deep Representations with Probabilistic Knowledge
 * Transfer", ECCV 2018 (arXiv:1803.10837, https://arxiv.org/abs/1803.10837).
 *
 * Pairwise cosine similarities of a batch's embeddings, shifted to [0, 1] ((K + 1) / 2), are
 * turned into conditional probabilities p_{i|j} by normalising each row; the student minimises
 * the KL divergence between the teacher's and its own distributions:
 *   L_PKT = mean_{i,j} p^t_{i|j} * log((p^t_{i|j} + eps) / (p^s_{i|j} + eps)),  eps = 1e-7,
 * (averaged over the B x B entries, as RepDistiller does), on the pooled embeddings.
 * loss = gamma * CE + beta * L_PKT with the CRD benchmark's gamma = 1, beta = 30000.
 */
import { crossEntropy, defineMethod, flattenRows } from '@kdbench/core';
import { tf } from '@kdbench/engine';

const EPS = 1e-7;

/** Row-normalised (cosine + 1) / 2 kernel: the conditional probabilities of PKT. */
function conditionalProbabilities(f: tf.Tensor2D): tf.Tensor2D {
  const norm = tf.sqrt(tf.sum(tf.square(f), 1, true));
  const n = tf.div(f, tf.add(norm, EPS));
  const k = tf.div(tf.add(tf.matMul(n, n, false, true), 1), 2);
  return tf.div(k, tf.sum(k, 1, true)) as tf.Tensor2D;
}

export function pktLoss(fs: tf.Tensor, ft: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const ps = conditionalProbabilities(flattenRows(fs));
    const pt = conditionalProbabilities(flattenRows(ft));
    return tf.mean(tf.mul(pt, tf.log(tf.div(tf.add(pt, EPS), tf.add(ps, EPS))))) as tf.Scalar;
  });
}

export const pkt = defineMethod({
  id: 'pkt',
  title: 'Probabilistic knowledge transfer',
  paper: {
    authors: 'N. Passalis, A. Tefas',
    title: 'Learning Deep Representations with Probabilistic Knowledge Transfer',
    venue: 'ECCV',
    year: 2018,
    url: 'https://arxiv.org/abs/1803.10837',
  },
  family: 'relation',
  knowledge: 'relation',
  scheme: 'offline',
  teacher: 'required',
  defaults: { gamma: 1, beta: 30000 },
  hyperDocs: {
    gamma: 'weight of the cross-entropy with labels',
    beta: 'weight of the PKT KL divergence on the pooled embeddings',
  },
  deviations: '',
  create: ({ hp }) => ({
    losses: (io) => ({
      ce: tf.mul(crossEntropy(io.student.logits, io.labels), hp.gamma),
      pkt: tf.mul(pktLoss(io.student.embedding, io.teacher.embedding), hp.beta),
    }),
  }),
});
