/**
 * The labeled student on a modality: the reference point of cross-modal distillation, as in
 * S. Gupta, J. Hoffman and J. Malik, "Cross Modal Distillation for Supervision Transfer", CVPR 2016
 * (arXiv:1507.00448), which compares supervision transfer with a network trained on the new
 * modality from its labels. The student sees the `modality` of every image (training and
 * evaluation) and learns from labels alone, with no teacher:
 *   loss = CE(s, y).
 *
 * No distillation loss to check (label cross-entropy only).
 */
import { crossEntropy, defineMethod } from '@kdbench/core';
import { MODALITY_DOC, STUDENT_MODALITIES, modalityStudent } from './shared/modality.js';
import { paper } from './suptransfer.js';

export const modalitylabeled = defineMethod({
  id: 'modalitylabeled',
  title: 'Labeled student on a modality (no teacher)',
  paper,
  family: 'cross-modal',
  knowledge: 'none',
  scheme: 'offline',
  teacher: 'none',
  defaults: { modality: 'gray' },
  hyperChoices: { modality: STUDENT_MODALITIES },
  hyperDocs: { modality: MODALITY_DOC },
  deviations: '',
  create: (ctx) => {
    const student = modalityStudent('modalitylabeled', ctx);
    return {
      procedure: { student },
      losses: (io) => ({ ce: crossEntropy(io.student.logits, io.labels) }),
    };
  },
});
