/**
 * CRD: Y. Tian, D. Krishnan and P. Isola, "Contrastive Representation Distillation", ICLR 2020
 * (arXiv:1910.10699, https://arxiv.org/abs/1910.10699; code: RepDistiller).
 *
 * Student and teacher pooled embeddings go through linear heads to 128-d unit vectors s, t. Two
 * memory banks hold one 128-d vector per training record: the student bank M_s and the teacher
 * bank M_t; the record at position i of the training split (ctx.trainIds) owns row i of both.
 * For each batch row (record i of class c), K distinct negatives are drawn from the rows
 * of records of other classes (RepDistiller's CIFAR loader, 'exact' mode: positive = the record
 * itself, negatives from cls_negative[c]) and
 *   h(t, M_s[j]) = exp(<M_s[j], t> / tau) / Z_t,   h(s, M_t[j]) = exp(<M_t[j], s> / tau) / Z_s,
 * with Z estimated once on the first batch (mean of exp(.) times N). The NCE loss of the paper
 * (Eq. 18 as implemented in RepDistiller), per anchor and side, with m = K and P_n = 1/N (N the
 * bank size, as in RepDistiller even though the negatives come from the other classes only):
 *   L = -E[ log(h_pos / (h_pos + m/N)) ] - sum_neg log((m/N) / (h_neg + m/N)),
 * summed over both sides (teacher anchor, student anchor) and averaged over the batch.
 * After each step the banks move to the batch's embeddings: M[i] <- norm(0.5 M[i] + 0.5 v).
 * The banks and both Z are buffers (checkpointed; Z = -1 until estimated, like RepDistiller's
 * `params` buffer), so a resumed run continues with the same banks and constants.
 * Defaults (CRD benchmark): K = 16384 (capped at the smallest number of other-class records),
 * tau = 0.07, momentum 0.5, dim 128, loss = CE + 0.8 * L_CRD; CRD+KD adds 1 * T^2 * KL with T = 4.
 */
import { ContrastiveCriterion, CrdObjective, crossEntropy, defineMethod, type MethodContext, type MethodInstance, softTargetKL } from '@kdbench/core';
import { tf } from '@kdbench/engine';

// the memory banks, negative sampling and NCE loss live in core (shared with the cross-modal variant)
export { ClassNegatives, ContrastMemory, nceLoss, sampleContrastIndices } from '@kdbench/core';

type CrdHyper = {
  gamma: number; alpha: number; T: number; beta: number; featDim: number; nceK: number; nceT: number; nceM: number;
};

function createCrd(ctx: MethodContext<CrdHyper, 'required'>): MethodInstance<'required'> {
  const { hp, rng, trainIds, trainLabels } = ctx;
  if (trainIds.length !== trainLabels.length || trainIds.length !== ctx.trainSize) {
    throw new Error(`crd: trainIds (${trainIds.length}), trainLabels (${trainLabels.length}) and trainSize (${ctx.trainSize}) disagree`);
  }
  const objective = new CrdObjective({
    studentShapes: ctx.studentShapes, teacherShapes: ctx.teacherShapes, trainIds, negativeClasses: trainLabels, settings: hp, rng,
  });
  return {
    parts: objective.parts,
    losses: (io) => {
      const terms: Record<string, tf.Scalar> = {
        ce: tf.mul(crossEntropy(io.student.logits, io.labels), hp.gamma),
        crd: tf.mul(objective.loss(io.student, io.teacher, io.ids), hp.beta),
      };
      if (hp.alpha > 0) terms.kd = tf.mul(softTargetKL(io.student.logits, io.teacher.logits, hp.T), hp.alpha);
      return terms;
    },
  };
}

/** The memory part (banks, Z, sampler) of a crd / crdkd instance, for inspection. */
export function crdMemory(inst: MethodInstance): ContrastiveCriterion {
  const part = inst.parts?.crdMemory;
  if (!(part instanceof ContrastiveCriterion)) throw new Error('not a CRD instance: it has no crdMemory part');
  return part;
}

const paper = {
  authors: 'Y. Tian, D. Krishnan, P. Isola',
  title: 'Contrastive Representation Distillation',
  venue: 'ICLR',
  year: 2020,
  url: 'https://arxiv.org/abs/1910.10699',
};

const hyperDocs = {
  gamma: 'weight of the cross-entropy with labels',
  alpha: 'weight of the T^2-scaled KD term (0: plain CRD)',
  T: 'KD temperature (used when alpha > 0)',
  beta: 'weight of the CRD contrastive loss',
  featDim: 'width of the L2-normalised embedding heads and memory banks',
  nceK: 'negatives per positive, drawn from records of other classes (capped at the smallest such pool)',
  nceT: 'temperature tau of the critic exp(<u, v> / tau)',
  nceM: 'momentum of the memory-bank update',
};

const deviations =
  'Negatives are drawn without replacement from the records of other classes, as RepDistiller\'s CIFAR \'exact\' ' +
  'mode does, but from the run\'s Rng rather than numpy\'s stream. K is capped at the smallest number of ' +
  'other-class records, so small training subsets (CPU protocols) use fewer than 16384 negatives; RepDistiller would ' +
  'instead draw 16384 with replacement. As in RepDistiller, the loss keeps P_n = 1/N although the negatives come ' +
  'from other classes only.';

const base: CrdHyper = { gamma: 1, alpha: 0, T: 4, beta: 0.8, featDim: 128, nceK: 16384, nceT: 0.07, nceM: 0.5 };

export const crd = defineMethod({
  id: 'crd',
  title: 'Contrastive representation distillation',
  paper,
  family: 'relation',
  knowledge: 'relation',
  scheme: 'offline',
  teacher: 'required',
  defaults: base,
  hyperDocs,
  deviations,
  create: createCrd,
});

export const crdkd = defineMethod({
  ...crd,
  id: 'crdkd',
  title: 'Contrastive representation distillation + KD',
  defaults: { ...base, alpha: 1 },
});
