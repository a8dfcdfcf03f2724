/**
 * SP: F. Tung and G. Mori, "Similarity-Preserving Knowledge Distillation", ICCV 2019
 * (arXiv:1907.09682, https://arxiv.org/abs/1907.09682).
 *
 * Activations of a batch at a layer, flattened to Q in R^{B x D}, give the batch similarity
 * G = Q Q^T, row-wise L2-normalised; the student matches the teacher's:
 *   L_SP = 1/B^2 * || G_t - G_s ||_F^2,
 * at the output of the last stage (post-ReLU, RepDistiller's feat[-2]), added to CE:
 *   loss = gamma * CE + beta * L_SP with the CRD benchmark's gamma = 1, beta = 3000.
 */
import { crossEntropy, defineMethod, flattenRows, gramRows, l2NormalizeRows } from '@kdbench/core';
import { tf } from '@kdbench/engine';

/** 1/B^2 * ||norm(G_t) - norm(G_s)||_F^2 for activations [B, ...] of student and teacher. */
export function similarityPreservingLoss(fs: tf.Tensor, ft: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const b = fs.shape[0]!;
    const gs = l2NormalizeRows(gramRows(flattenRows(fs)));
    const gt = l2NormalizeRows(gramRows(flattenRows(ft)));
    return tf.div(tf.sum(tf.squaredDifference(gt, gs)), b * b) as tf.Scalar;
  });
}

export const sp = defineMethod({
  id: 'sp',
  title: 'Similarity-preserving KD',
  paper: {
    authors: 'F. Tung, G. Mori',
    title: 'Similarity-Preserving Knowledge Distillation',
    venue: 'ICCV',
    year: 2019,
    url: 'https://arxiv.org/abs/1907.09682',
  },
  family: 'relation',
  knowledge: 'relation',
  scheme: 'offline',
  teacher: 'required',
  defaults: { gamma: 1, beta: 3000 },
  hyperDocs: {
    gamma: 'weight of the cross-entropy with labels',
    beta: 'weight of the similarity-preserving loss (last stage output)',
  },
  deviations: '',
  create: ({ hp }) => ({
    losses: (io) => {
      const fs = io.student.features[io.student.features.length - 1]!.post;
      const ft = io.teacher.features[io.teacher.features.length - 1]!.post;
      return {
        ce: tf.mul(crossEntropy(io.student.logits, io.labels), hp.gamma),
        sp: tf.mul(similarityPreservingLoss(fs, ft), hp.beta),
      };
    },
  }),
});
