/**
 * Contrastive cross-modal transfer: CRD's objective across modalities, Y. Tian, D. Krishnan and
 * P. Isola, "Contrastive Representation Distillation", ICLR 2020 (arXiv:1910.10699,
 * https://arxiv.org/abs/1910.10699), whose cross-modal experiment transfers on unlabeled paired images.
 *
 * The teacher embeds the RGB image, the student the same image in its `modality`; linear heads map
 * both pooled embeddings to 128-d unit vectors and CRD's two-sided NCE loss over the memory banks
 * pulls the pair together against K negatives (core's ContrastiveCriterion: banks, Z, momentum 0.5).
 * As in CRD's unlabeled cross-modal experiment no label is read (`data: 'unlabeled'`): the negatives
 * are any other training records, not other-class records. The student's classifier learns from
 * the teacher's soft targets:
 *   loss = beta * L_CRD(student @ modality, teacher @ RGB) + alpha * T^2 * KL(softmax(t/T) || softmax(s/T)).
 * Defaults: CRD's (K = 16384 capped at N - 1, tau = 0.07, momentum 0.5, dim 128, beta 0.8) and
 * CRD+KD's KD term (alpha 1, T = 4).
 *
 * Checked against the authors' code: HobbitLong/RepDistiller crd/criterion.py, crd/memory.py and
 * train_student.py @ b84f547 hold CRD's objective and its defaults (feat_dim 128, nce_k 16384,
 * nce_t 0.07, nce_m 0.5, -b 0.8, kd_T 4), which match ours; core's objective is pinned by the crd
 * parity fixture. That repository has no code for the cross-modal experiment, so its pairing and
 * linear probe could not be checked.
 */
import { CrdObjective, defineMethod, softTargetKL, type MethodContext, type MethodInstance } from '@kdbench/core';
import { tf } from '@kdbench/engine';
import { MODALITY_DOC, STUDENT_MODALITIES, modalityStudent } from './shared/modality.js';

type Hyper = { modality: string; alpha: number; T: number; beta: number; featDim: number; nceK: number; nceT: number; nceM: number };

function createCrdCrossModal(ctx: MethodContext<Hyper, 'required'>): MethodInstance<'required'> {
  const { hp } = ctx;
  const trainIds = ctx.trainIds;
  // label-free: every record is its own class, so a record's negatives are all the other records
  const objective = new CrdObjective({
    studentShapes: ctx.studentShapes, teacherShapes: ctx.teacherShapes, trainIds,
    negativeClasses: Int32Array.from(trainIds, (_, i) => i), settings: hp, rng: ctx.rng,
  });
  return {
    procedure: { student: modalityStudent('crdcrossmodal', ctx) },
    parts: objective.parts,
    losses: (io) => ({
      crd: tf.mul(objective.loss(io.student, io.teacher, io.ids), hp.beta),
      kd: tf.mul(softTargetKL(io.student.logits, io.teacher.logits, hp.T), hp.alpha),
    }),
  };
}

export const crdcrossmodal = defineMethod({
  id: 'crdcrossmodal',
  title: 'Contrastive representation distillation across modalities (label-free)',
  paper: {
    authors: 'Y. Tian, D. Krishnan, P. Isola',
    title: 'Contrastive Representation Distillation',
    venue: 'ICLR',
    year: 2020,
    url: 'https://arxiv.org/abs/1910.10699',
  },
  family: 'cross-modal',
  knowledge: 'relation',
  scheme: 'offline',
  teacher: 'required',
  data: 'unlabeled',
  defaults: { modality: 'gray', alpha: 1, T: 4, beta: 0.8, featDim: 128, nceK: 16384, nceT: 0.07, nceM: 0.5 } as Hyper,
  hyperChoices: { modality: STUDENT_MODALITIES },
  hyperDocs: {
    modality: MODALITY_DOC,
    alpha: 'weight of the T^2-scaled KL to the RGB teacher\'s soft targets (trains the classifier without labels)',
    T: 'KD temperature',
    beta: 'weight of the CRD contrastive loss between the modality student and the RGB teacher',
    featDim: 'width of the L2-normalised embedding heads and memory banks',
    nceK: 'negatives per positive, any other training record (capped at N - 1)',
    nceT: 'temperature tau of the critic exp(<u, v> / tau)',
    nceM: 'momentum of the memory-bank update',
  },
  deviations:
    'CRD\'s cross-modal experiment evaluates the transferred representation with a linear probe trained on labels; ' +
    'here no label is read, so the teacher\'s soft targets train the student\'s classifier (CRD+KD\'s KD term). ' +
    'The modalities are derived from the CIFAR image rather than taken from the paper\'s paired-image datasets.',
  create: createCrdCrossModal,
});
