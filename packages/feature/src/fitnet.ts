/**
 * FitNet: A. Romero, N. Ballas, S. E. Kahou, A. Chassang, C. Gatta, Y. Bengio, "FitNets: Hints for
 * Thin Deep Nets", ICLR 2015 (arXiv:1412.6550).
 *
 * A regressor maps the student's "guided" layer to the teacher's "hint" layer and the student
 * minimises the squared error to it: loss = gamma * CE + beta * MSE(r(f_s), f_t). As in the CRD
 * benchmark (Tian et al., ICLR 2020; RepDistiller `hint`): the hint is the middle feature
 * (features[2], hint_layer = 2, after the ReLU), the regressor is a conv (1x1 for equal sizes) +
 * BN + ReLU trained with the student, and training is single-stage with CE (1) + 100 * hint.
 */
import { ConvReg, crossEntropy, defineMethod, meanSquaredError, moduleSeed, stageShapes } from '@kdbench/core';
import { tf } from '@kdbench/engine';

export const fitnet = defineMethod({
  id: 'fitnet',
  title: 'FitNets: hints from an intermediate teacher layer',
  paper: {
    authors: 'A. Romero, N. Ballas, S. E. Kahou, A. Chassang, C. Gatta, Y. Bengio',
    title: 'FitNets: Hints for Thin Deep Nets',
    venue: 'ICLR',
    year: 2015,
    url: 'https://arxiv.org/abs/1412.6550',
  },
  family: 'feature',
  knowledge: 'feature',
  scheme: 'offline',
  teacher: 'required',
  defaults: { gamma: 1, beta: 100, hintLayer: 2 },
  hyperDocs: {
    gamma: 'weight of the cross-entropy with labels',
    beta: 'weight of the hint (MSE) loss',
    hintLayer: 'index into [stem, stage1, stage2, ...] of the hinted/guided feature (2 = middle, as RepDistiller)',
  },
  deviations:
    'The paper trains in two stages (hint pre-training of the lower student layers, then KD); this follows the CRD benchmark, which trains one stage with CE + beta * hint and no KD term.',
  create: ({ hp, studentShapes, teacherShapes, rng }) => {
    const i = hp.hintLayer;
    const s = stageShapes(studentShapes)[i];
    const t = stageShapes(teacherShapes)[i];
    if (!s || !t) throw new Error(`fitnet: hintLayer ${i} is outside the student's or teacher's feature list`);
    const regressor = new ConvReg(s, t, moduleSeed(rng, 'fitnet.regressor'), true);
    return {
      parts: { regressor },
      losses: (io) => ({
        ce: tf.mul(crossEntropy(io.student.logits, io.labels), hp.gamma),
        hint: tf.mul(meanSquaredError(regressor.apply(io.student.features[i]!.post), io.teacher.features[i]!.post), hp.beta),
      }),
    };
  },
});
