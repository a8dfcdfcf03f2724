/**
 * RKD: W. Park, D. Kim, Y. Lu and M. Cho, "Relational Knowledge Distillation", CVPR 2019
 * (arXiv:1904.05068, https://arxiv.org/abs/1904.05068).
 *
 * The student matches structural relations of the teacher's embeddings rather than the
 * embeddings themselves, with the Huber (smooth-L1, delta 1) loss:
 * - distance-wise: psi_D(t_i, t_j) = ||t_i - t_j|| / mu, mu = mean of the non-zero distances
 *   in the batch;
 * - angle-wise: psi_A(t_i, t_j, t_k) = <e_ij, e_kj>, e_ij = (t_i - t_j) / ||t_i - t_j||, over all
 *   triplets of the batch.
 *   L_RKD = w_d * Huber(psi_D^s, psi_D^t) + w_a * Huber(psi_A^s, psi_A^t),
 * with w_d = 25, w_a = 50, on the pooled embeddings; the CRD benchmark adds it to CE with
 * gamma = 1, beta = 1.
 */
import { crossEntropy, defineMethod, flattenRows, l2NormalizeRows, pairwiseDistances, smoothL1 } from '@kdbench/core';
import { tf } from '@kdbench/engine';

/**
 * Pairwise distances divided by their mean over the non-zero entries: the B(B-1) off-diagonal
 * ones (pairwiseDistances clamps them away from zero, the diagonal is exactly zero).
 */
function normalisedDistances(e: tf.Tensor2D): tf.Tensor2D {
  const b = e.shape[0];
  const d = pairwiseDistances(e);
  return tf.div(d, tf.div(tf.sum(d), Math.max(1, b * (b - 1))));
}

/** Cosines of all triplet angles, [B*B*B]: cos[j, i, k] = <e_ij, e_kj> (RKD's angle potential). */
function tripletCosines(e: tf.Tensor2D): tf.Tensor1D {
  const [b, d] = e.shape;
  const diff = tf.sub(tf.expandDims(e, 0), tf.expandDims(e, 1)); // [j, i, :] = e_i - e_j
  const unit = tf.reshape(l2NormalizeRows(tf.reshape(diff, [b * b, d]) as tf.Tensor2D), [b, b, d]);
  return tf.reshape(tf.matMul(unit, unit, false, true), [-1]) as tf.Tensor1D;
}

export function rkdLoss(fs: tf.Tensor, ft: tf.Tensor, wDistance: number, wAngle: number): tf.Scalar {
  return tf.tidy(() => {
    const s = flattenRows(fs);
    const t = flattenRows(ft);
    const lossD = smoothL1(normalisedDistances(s), normalisedDistances(t));
    const lossA = smoothL1(tripletCosines(s), tripletCosines(t));
    return tf.add(tf.mul(lossD, wDistance), tf.mul(lossA, wAngle)) as tf.Scalar;
  });
}

export const rkd = defineMethod({
  id: 'rkd',
  title: 'Relational knowledge distillation (distance + angle)',
  paper: {
    authors: 'W. Park, D. Kim, Y. Lu, M. Cho',
    title: 'Relational Knowledge Distillation',
    venue: 'CVPR',
    year: 2019,
    url: 'https://arxiv.org/abs/1904.05068',
  },
  family: 'relation',
  knowledge: 'relation',
  scheme: 'offline',
  teacher: 'required',
  defaults: { gamma: 1, beta: 1, wDistance: 25, wAngle: 50 },
  hyperDocs: {
    gamma: 'weight of the cross-entropy with labels',
    beta: 'overall weight of the RKD loss',
    wDistance: 'weight of the distance-wise Huber term inside RKD',
    wAngle: 'weight of the angle-wise Huber term inside RKD',
  },
  deviations: '',
  create: ({ hp }) => ({
    losses: (io) => ({
      ce: tf.mul(crossEntropy(io.student.logits, io.labels), hp.gamma),
      rkd: tf.mul(rkdLoss(io.student.embedding, io.teacher.embedding, hp.wDistance, hp.wAngle), hp.beta),
    }),
  }),
});
