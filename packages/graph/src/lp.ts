/**
 * Graph-based distillation (survey section 5.4), locality-preserving loss of H. Chen, Y. Wang,
 * C. Xu, C. Xu and D. Tao, "Learning Student Networks via Feature Embedding", IEEE Transactions
 * on Neural Networks and Learning Systems 32(1), 2021 (arXiv:1812.06597,
 * https://arxiv.org/abs/1812.06597).
 *
 * The teacher's embedding space defines a k-nearest-neighbour graph over the batch with heat-kernel
 * weights; the student's (lower-dimensional) embeddings must keep neighbours close, with no extra
 * parameters (Laplacian-eigenmap / locality-preserving-projection form):
 *   alpha_ij = exp(-||t_i - t_j||^2 / sigma^2) if t_j is among the k nearest neighbours of t_i, else 0,
 *   L_LP = 1/(2B) * sum_i sum_j alpha_ij ||s_i - s_j||^2,
 * on the pooled embeddings, added to cross-entropy: loss = gamma * CE + beta * L_LP.
 * That sum alone is minimised by giving every image the same embedding; locality-preserving
 * projections exclude this with the constraint y^T D y = 1 (D the graph's degrees). By default
 * (`normalized` 1) the loss carries that constraint as a ratio, which is scale-free and lies in [0, 2]:
 *   L_LP = sum_ij alpha_ij ||s_i - s_j||^2 / (2 sum_i d_i ||s_i - m||^2),
 * d_i the degrees of the symmetrised graph (alpha + alpha^T) / 2 and m the degree-weighted mean
 * embedding, i.e. the generalised Rayleigh quotient tr(S^T L S) / tr(S^T D S) of the centred S.
 */
import { crossEntropy, defineMethod, flattenRows, pairwiseDistances } from '@kdbench/core';
import { tf } from '@kdbench/engine';

/**
 * Heat-kernel weights of the teacher's k-NN graph, [B, B] (row i: the k nearest neighbours of
 * i, self excluded). sigma2 <= 0 uses the batch mean of the neighbours' squared distances.
 */
export function localityWeights(teacher: tf.Tensor2D, k: number, sigma2: number): tf.Tensor2D {
  const b = teacher.shape[0];
  const d = tf.tidy(() => pairwiseDistances(teacher, { squared: true, eps: 0 }).dataSync());
  const kk = Math.min(k, b - 1);
  const nbrs: number[][] = [];
  let sum = 0;
  for (let i = 0; i < b; i++) {
    const order = [...Array(b).keys()].filter((j) => j !== i).sort((x, y) => d[i * b + x]! - d[i * b + y]! || x - y);
    nbrs.push(order.slice(0, kk));
    for (const j of nbrs[i]!) sum += d[i * b + j]!;
  }
  const s2 = sigma2 > 0 ? sigma2 : Math.max(sum / Math.max(1, b * kk), 1e-12);
  const w = new Float32Array(b * b);
  nbrs.forEach((row, i) => row.forEach((j) => (w[i * b + j] = Math.exp(-d[i * b + j]! / s2))));
  return tf.tensor2d(w, [b, b]);
}

/** The locality-preserving loss; `normalized` divides by the degree-weighted spread (see the header). */
export function localityPreservingLoss(fs: tf.Tensor, ft: tf.Tensor, k: number, sigma2: number, normalized = false): tf.Scalar {
  return tf.tidy(() => {
    const s = flattenRows(fs);
    const w = localityWeights(flattenRows(ft), k, sigma2);
    const smoothness = tf.sum(tf.mul(w, pairwiseDistances(s, { squared: true, eps: 0 })));
    if (!normalized) return tf.div(smoothness, 2 * s.shape[0]) as tf.Scalar;
    const degrees = tf.reshape(tf.mul(tf.add(tf.sum(w, 1), tf.sum(w, 0)), 0.5), [-1, 1]);
    const mean = tf.div(tf.sum(tf.mul(degrees, s), 0, true), tf.sum(degrees));
    const spread = tf.sum(tf.mul(degrees, tf.square(tf.sub(s, mean))));
    return tf.div(smoothness, tf.add(tf.mul(spread, 2), 1e-12)) as tf.Scalar;
  });
}

export const lp = defineMethod({
  id: 'lp',
  title: 'Locality-preserving graph distillation (feature embedding)',
  paper: {
    authors: 'H. Chen, Y. Wang, C. Xu, C. Xu, D. Tao',
    title: 'Learning Student Networks via Feature Embedding',
    venue: 'IEEE Transactions on Neural Networks and Learning Systems',
    year: 2021,
    url: 'https://arxiv.org/abs/1812.06597',
  },
  family: 'graph',
  knowledge: 'relation',
  scheme: 'offline',
  teacher: 'required',
  defaults: { gamma: 1, beta: 1, k: 5, sigma2: 0, normalized: 1 },
  hyperDocs: {
    gamma: 'weight of the cross-entropy with labels',
    beta: 'weight of the locality-preserving loss',
    k: 'neighbours per instance in the teacher graph (capped at batch size - 1)',
    sigma2: 'heat-kernel width sigma^2; <= 0 uses the batch mean of the neighbours\' squared teacher distances',
    normalized: '1: divide by the degree-weighted spread of the student embeddings (the LPP constraint); 0: the raw sum / 2B',
  },
  deviations:
    'The loss follows the paper\'s locality-preserving form, but its CIFAR hyperparameters (k, sigma^2, weight) could not ' +
    'be checked against the paper text here: k = 5, beta = 1 and the batch-adaptive sigma^2 are kdbench choices, and ' +
    'the sum over pairs is divided by the batch size so the weight does not depend on it. The raw sum is minimised by ' +
    'identical embeddings for all images (measured: the quick CIFAR-10 student collapsed to 18.9% top-1 at beta 1), so by ' +
    'default it is divided by the degree-weighted spread of the student embeddings, the constraint y^T D y = 1 of ' +
    'locality-preserving projections as a ratio (normalized 0 restores the raw form). The paper also reports ' +
    'the loss combined with KD; this definition adds it to cross-entropy only.',
  create: ({ hp }) => {
    if (hp.normalized !== 0 && hp.normalized !== 1) throw new Error(`lp: normalized must be 0 or 1, got ${hp.normalized}`);
    return { losses: (io) => ({
      ce: tf.mul(crossEntropy(io.student.logits, io.labels), hp.gamma),
      lp: tf.mul(localityPreservingLoss(io.student.embedding, io.teacher.embedding, hp.k, hp.sigma2, hp.normalized === 1), hp.beta),
    }) };
  },
});
