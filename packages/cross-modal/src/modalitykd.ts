/**
 * KD plus labels across modalities: the student sees the `modality` of every image, the teacher
 * the RGB original, and the student learns from its labels and the teacher's soft targets
 * (G. Hinton, O. Vinyals and J. Dean, "Distilling the Knowledge in a Neural Network", NIPS Deep
 * Learning Workshop 2015, arXiv:1503.02531) -- the labeled counterpart of supervision transfer
 * (Gupta et al., CVPR 2016) in the survey's cross-modal comparison:
 *   loss = gamma * CE(s, y) + alpha * T^2 * KL(softmax(t/T) || softmax(s/T)).
 * Defaults: the CRD benchmark's KD (T = 4, gamma = 0.1, alpha = 0.9).
 *
 * No public code from the authors of a cross-modal KD baseline (Hinton et al. released none; no
 * search spent). The KD term is core's softTargetKL, which the kd parity fixture checks against
 * RepDistiller's DistillKL.
 */
import { crossEntropy, defineMethod, softTargetKL } from '@kdbench/core';
import { tf } from '@kdbench/engine';
import { MODALITY_DOC, STUDENT_MODALITIES, modalityStudent } from './shared/modality.js';

export const modalitykd = defineMethod({
  id: 'modalitykd',
  title: 'KD plus labels across modalities',
  paper: {
    authors: 'G. Hinton, O. Vinyals, J. Dean',
    title: 'Distilling the Knowledge in a Neural Network',
    venue: 'NIPS Deep Learning Workshop',
    year: 2015,
    url: 'https://arxiv.org/abs/1503.02531',
  },
  family: 'cross-modal',
  knowledge: 'response',
  scheme: 'offline',
  teacher: 'required',
  teacherOutputs: 'logits',
  defaults: { modality: 'gray', T: 4, gamma: 0.1, alpha: 0.9 },
  hyperChoices: { modality: STUDENT_MODALITIES },
  hyperDocs: {
    modality: MODALITY_DOC,
    T: 'softmax temperature of teacher and student',
    gamma: 'weight of the cross-entropy with labels',
    alpha: 'weight of the T^2-scaled KL to the RGB teacher\'s soft targets',
  },
  deviations: '',
  create: (ctx) => {
    const { hp } = ctx;
    const student = modalityStudent('modalitykd', ctx);
    return {
      procedure: { student },
      losses: (io) => ({
        ce: tf.mul(crossEntropy(io.student.logits, io.labels), hp.gamma),
        kd: tf.mul(softTargetKL(io.student.logits, io.teacher.logits, hp.T), hp.alpha),
      }),
    };
  },
});
