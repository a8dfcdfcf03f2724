/**
 * Two teachers, one per kind of knowledge: X. Chen, J. Su and J. Zhang, "A Two-Teacher Framework
 * for Knowledge Distillation", ISNN 2019, LNCS 11554, pp. 58-66
 * (https://doi.org/10.1007/978-3-030-22796-8_7). One teacher guides the student's features, the
 * other its decision (soft targets), so that each kind of knowledge comes from a network trained
 * for it rather than both from one teacher.
 *
 * Here the response teacher is the run's teacher and the feature teacher is the `featureTeacher`
 * network of the teacher store (default: the run's teacher architecture with seed 1). The feature
 * knowledge is a FitNet hint at the tapped stage: a regressor r (RepDistiller's ConvReg: conv + BN +
 * ReLU) maps the student's map to the feature teacher's,
 *   loss = gamma * CE(s, y) + alpha * T^2 * KL(softmax(t_resp/T) || softmax(s/T)) + beta * MSE(r(f_s), f_feat).
 * Defaults: the CRD benchmark's KD (T = 4, gamma 0.1, alpha 0.9) and FitNet (weight 100, stage 2).
 *
 * No public code from the authors (searched: the code corpus for the paper's title). The KD term
 * and the hint's MSE are the functions the kd and fitnet_hint parity fixtures check against
 * RepDistiller; the ConvReg adapter is not in those fixtures.
 */
import { ConfigError, ConvReg, crossEntropy, defineMethod, meanSquaredError, moduleSeed, softTargetKL, stageShapes } from '@kdbench/core';
import { tf } from '@kdbench/engine';
import { ensembleOf, ensembleOutputs, parseTeachers, teacherAccuracies } from './shared/ensemble.js';

export const twoteacher = defineMethod({
  id: 'twoteacher',
  title: 'Two teachers: one for responses, one for features',
  paper: {
    authors: 'X. Chen, J. Su, J. Zhang',
    title: 'A Two-Teacher Framework for Knowledge Distillation',
    venue: 'ISNN',
    year: 2019,
    url: 'https://doi.org/10.1007/978-3-030-22796-8_7',
  },
  family: 'multi-teacher',
  knowledge: 'feature',
  scheme: 'offline',
  teacher: 'required',
  defaults: { T: 4, gamma: 0.1, alpha: 0.9, beta: 100, layer: 2, featureTeacher: 'teacher:1' },
  hyperDocs: {
    T: 'softmax temperature of the response teacher and the student',
    gamma: 'weight of the cross-entropy with labels',
    alpha: 'weight of the T^2-scaled KL to the response teacher (the run\'s teacher)',
    beta: 'weight of the hint MSE to the feature teacher',
    layer: 'tapped stage for the hint: 1.. = stage outputs (post-activation)',
    featureTeacher: "the feature teacher as model:seed ('teacher' = the run's teacher architecture); must differ from the run's teacher",
  },
  deviations:
    'The paper trains its two teachers with different strategies ("strictly" for the feature teacher, "loosely" for ' +
    'the response teacher); here both are teacher-store networks trained by the same protocol, differing in seed ' +
    '(or architecture), and the feature knowledge is transferred by a FitNet hint with the CRD benchmark\'s regressor.',
  extraTeachers: (hp, teacher) => {
    const list = parseTeachers('twoteacher', hp.featureTeacher, teacher);
    if (list.length !== 1) throw new ConfigError(`method 'twoteacher': featureTeacher must be one model:seed, got '${hp.featureTeacher}'`);
    return list;
  },
  create: (ctx) => {
    const { hp } = ctx;
    const { models, extra } = ensembleOf(ctx);
    if (models.length !== 2) throw new ConfigError("method 'twoteacher': the feature teacher must be a network other than the run's teacher");
    const s = stageShapes(ctx.studentShapes)[hp.layer];
    const t = stageShapes(models[1]!.featureShapes())[hp.layer];
    if (!Number.isInteger(hp.layer) || hp.layer < 1 || !s || !t) {
      throw new ConfigError(`method 'twoteacher': layer must be a stage index 1..${stageShapes(ctx.studentShapes).length - 1} present in both networks, got ${hp.layer}`);
    }
    const regressor = new ConvReg(s, t, moduleSeed(ctx.rng, 'twoteacher-hint'));
    return {
      parts: { regressor, teachers: { metrics: (evaluate) => teacherAccuracies(models, evaluate) } },
      losses: (io) => {
        const [response, feature] = ensembleOutputs(io, extra, 'twoteacher');
        const hint = meanSquaredError(regressor.apply(io.student.features[hp.layer]!.post), feature!.features[hp.layer]!.post);
        return {
          ce: tf.mul(crossEntropy(io.student.logits, io.labels), hp.gamma),
          kd: tf.mul(softTargetKL(io.student.logits, response!.logits, hp.T), hp.alpha),
          hint: tf.mul(hint, hp.beta),
        };
      },
    };
  },
});
