/**
 * KD: Hinton, Vinyals & Dean, "Distilling the Knowledge in a Neural Network", NIPS Deep Learning
 * Workshop 2015 (arXiv:1503.02531).
 *
 * The student matches the teacher's temperature-softened class probabilities:
 *   loss = gamma * CE(s, y) + alpha * T^2 * KL(softmax(t/T) || softmax(s/T)).
 * Defaults are the CRD benchmark's (Tian et al., ICLR 2020): T = 4, gamma = 0.1, alpha = 0.9.
 */
import { crossEntropy, defineMethod, softTargetKL } from '@kdbench/core';
import { tf } from '@kdbench/engine';

export const kd = defineMethod({
  id: 'kd',
  title: 'Knowledge distillation (soft targets)',
  paper: {
    authors: 'G. Hinton, O. Vinyals, J. Dean',
    title: 'Distilling the Knowledge in a Neural Network',
    venue: 'NIPS Deep Learning Workshop',
    year: 2015,
    url: 'https://arxiv.org/abs/1503.02531',
  },
  family: 'response',
  knowledge: 'response',
  scheme: 'offline',
  teacher: 'required',
  teacherOutputs: 'logits',
  defaults: { T: 4, gamma: 0.1, alpha: 0.9 },
  hyperDocs: {
    T: 'softmax temperature of teacher and student',
    gamma: 'weight of the cross-entropy with labels',
    alpha: 'weight of the T^2-scaled KL term',
  },
  deviations: '',
  create: ({ hp }) => ({
    losses: (io) => ({
      ce: tf.mul(crossEntropy(io.student.logits, io.labels), hp.gamma),
      kd: tf.mul(softTargetKL(io.student.logits, io.teacher.logits, hp.T), hp.alpha),
    }),
  }),
});
