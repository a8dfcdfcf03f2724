/**
 * FSP: J. Yim, D. Joo, J. Bae and J. Kim, "A Gift from Knowledge Distillation: Fast Optimization,
 * Network Minimization and Transfer Learning", CVPR 2017
 * (https://openaccess.thecvf.com/content_cvpr_2017/html/Yim_A_Gift_From_CVPR_2017_paper.html).
 *
 * The "flow of solution procedure" between two layers is the Gram matrix of their channels,
 * G[i, j] = mean over positions of F1[.., i] * F2[.., j]; the student matches the teacher's FSP
 * matrices between consecutive stage outputs (the larger map average-pooled to the smaller), with
 * an L2 loss (RepDistiller: mean squared difference per matrix, summed over layer pairs). As in
 * the paper and the CRD benchmark, FSP is an initialisation method: a first stage (30 of 240
 * epochs, scaled to the run) trains the student's feature layers on the FSP loss alone, then the
 * main stage trains with cross-entropy only (RepDistiller sets the FSP term of that stage to 0;
 * `mainFsp` turns it on with weight beta = 50, the benchmark's command-line value).
 * FSP matrices compare channels one-to-one, so student and teacher stage widths must match
 * (RepDistiller raises the same error), e.g. resnet32x4 -> resnet8x4.
 */
import { avgPoolTo, crossEntropy, defineMethod, fspMatrix, meanSquaredError, scaleEpochs, type LossTerms } from '@kdbench/core';
import { tf } from '@kdbench/engine';
import type { FeatureShape, ForwardResult } from '@kdbench/models';

/** FSP matrices between consecutive maps, pooling the larger of each pair to the smaller size. */
export function fspMatrices(maps: tf.Tensor4D[]): tf.Tensor3D[] {
  const out: tf.Tensor3D[] = [];
  for (let i = 0; i + 1 < maps.length; i++) {
    let bot = maps[i]!;
    let top = maps[i + 1]!;
    if (bot.shape[1] > top.shape[1]) bot = avgPoolTo(bot, top.shape[1], top.shape[2]);
    else if (bot.shape[1] < top.shape[1]) top = avgPoolTo(top, bot.shape[1], bot.shape[2]);
    out.push(fspMatrix(bot, top));
  }
  return out;
}

/** Per consecutive layer pair, the mean squared difference of the FSP matrices. */
export function fspLayerLosses(student: tf.Tensor4D[], teacher: tf.Tensor4D[]): tf.Scalar[] {
  return tf.tidy(() => {
    const gs = fspMatrices(student);
    const gt = fspMatrices(teacher);
    return gs.map((g, i) => meanSquaredError(g, gt[i]!));
  });
}

/** Sum over consecutive layer pairs of the mean squared difference of the FSP matrices. */
export function fspLoss(student: tf.Tensor4D[], teacher: tf.Tensor4D[]): tf.Scalar {
  return tf.tidy(() => tf.addN(fspLayerLosses(student, teacher)) as tf.Scalar);
}

const maps = (out: ForwardResult) => out.features.map((f) => f.post);

function checkWidths(s: FeatureShape[], t: FeatureShape[]): void {
  const sc = s.filter((x) => x.name !== 'embedding').map((x) => x.channels);
  const tc = t.filter((x) => x.name !== 'embedding').map((x) => x.channels);
  if (sc.length !== tc.length || sc.some((c, i) => c !== tc[i])) {
    throw new Error(`fsp: student and teacher stage widths must match (student [${sc}], teacher [${tc}])`);
  }
}

export const fsp = defineMethod({
  id: 'fsp',
  title: 'Flow of solution procedure (FSP) initialisation',
  paper: {
    authors: 'J. Yim, D. Joo, J. Bae, J. Kim',
    title: 'A Gift from Knowledge Distillation: Fast Optimization, Network Minimization and Transfer Learning',
    venue: 'CVPR',
    year: 2017,
    url: 'https://openaccess.thecvf.com/content_cvpr_2017/html/Yim_A_Gift_From_CVPR_2017_paper.html',
  },
  family: 'relation',
  knowledge: 'relation',
  scheme: 'offline',
  teacher: 'required',
  defaults: { gamma: 1, beta: 50, initWeight: 1, initEpochs: 30, mainFsp: false as boolean },
  hyperDocs: {
    gamma: 'weight of the cross-entropy with labels (main stage)',
    beta: 'weight of the FSP loss in the main stage, used only when mainFsp is true',
    initWeight: 'weight of the FSP loss in the initialisation stage (RepDistiller sums the terms unweighted: 1)',
    initEpochs: 'initialisation epochs at the 240-epoch scale; the stage gets max(1, round(initEpochs/240 * epochs))',
    mainFsp: 'also add beta * FSP in the main stage (off in the CRD benchmark)',
  },
  deviations: '',
  create: ({ hp, student, studentShapes, teacherShapes, epochs }) => {
    checkWidths(studentShapes, teacherShapes);
    const fspTerm = (io: { student: ForwardResult; teacher: ForwardResult }) => fspLoss(maps(io.student), maps(io.teacher));
    return {
      procedure: {
        stages: [{
          name: 'fsp-init',
          epochs: scaleEpochs(hp.initEpochs, epochs),
          // the classifier gets no gradient from FSP, so only the feature layers move (get_feat_modules)
          variables: () => student.trainableVariables(),
          losses: (io) => ({ fsp: tf.mul(fspTerm(io), hp.initWeight) }),
        }],
      },
      losses: (io): LossTerms => {
        const ce = tf.mul(crossEntropy(io.student.logits, io.labels), hp.gamma) as tf.Scalar;
        return hp.mainFsp ? { ce, fsp: tf.mul(fspTerm(io), hp.beta) } : { ce };
      },
    };
  },
});
