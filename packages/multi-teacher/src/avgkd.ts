/**
 * Averaged soft targets of several teachers: G. Hinton, O. Vinyals and J. Dean, "Distilling the
 * Knowledge in a Neural Network", NIPS Deep Learning Workshop 2015 (arXiv:1503.02531,
 * https://arxiv.org/abs/1503.02531), section 2 / 4: the student distils an ensemble by matching the
 * arithmetic mean of the members' softened distributions. It is also the output-layer term of
 * You et al. (KDD 2017; `youmt` adds their intermediate-layer term).
 *
 *   p = 1/K sum_k softmax(t_k / T)
 *   loss = gamma * CE(s, y) + alpha * T^2 * KL(p || softmax(s / T))
 *
 * The K teachers are the run's teacher and the `teachers` list (default: two more networks of the
 * same architecture, seeds 1 and 2), all from the teacher store. Defaults: the CRD benchmark's KD
 * weights and temperature (T = 4, gamma = 0.1, alpha = 0.9).
 *
 * No public code from the authors: Hinton et al. released none with the paper (no search spent).
 * The averaged soft targets follow its section 2.
 */
import { crossEntropy, defineMethod } from '@kdbench/core';
import { tf } from '@kdbench/engine';
import { averagedSoftTargetKL, ensembleOf, ensembleOutputs, parseTeachers, teacherAccuracies } from './shared/ensemble.js';
import { checkEnsembleSize, DEFAULT_TEACHERS, TEACHERS_DOC } from './shared/hyper.js';

export const avgkd = defineMethod({
  id: 'avgkd',
  title: 'Averaged soft targets of several teachers',
  paper: {
    authors: 'G. Hinton, O. Vinyals, J. Dean',
    title: 'Distilling the Knowledge in a Neural Network',
    venue: 'NIPS Deep Learning Workshop',
    year: 2015,
    url: 'https://arxiv.org/abs/1503.02531',
  },
  family: 'multi-teacher',
  knowledge: 'response',
  scheme: 'offline',
  teacher: 'required',
  teacherOutputs: 'logits',
  defaults: { T: 4, gamma: 0.1, alpha: 0.9, teachers: DEFAULT_TEACHERS },
  hyperDocs: {
    T: 'softmax temperature of teachers and student',
    gamma: 'weight of the cross-entropy with labels',
    alpha: 'weight of the T^2-scaled KL to the averaged soft targets',
    teachers: TEACHERS_DOC,
  },
  deviations: '',
  extraTeachers: (hp, teacher) => parseTeachers('avgkd', hp.teachers, teacher),
  create: (ctx) => {
    const { hp } = ctx;
    const { models, extra } = ensembleOf(ctx);
    checkEnsembleSize('avgkd', models.length, 2);
    return {
      parts: { teachers: { metrics: (evaluate) => teacherAccuracies(models, evaluate) } },
      losses: (io) => {
        const teachers = ensembleOutputs(io, extra, 'avgkd').map((o) => o.logits);
        return {
          ce: tf.mul(crossEntropy(io.student.logits, io.labels), hp.gamma),
          kd: tf.mul(averagedSoftTargetKL(io.student.logits, teachers, hp.T), hp.alpha),
        };
      },
    };
  },
});
