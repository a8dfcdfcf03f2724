/**
 * One randomly chosen teacher per mini-batch: T. Fukuda, M. Suzuki, G. Kurata, S. Thomas, J. Cui and
 * B. Ramabhadran, "Efficient Knowledge Distillation from an Ensemble of Teachers", Interspeech 2017
 * (https://doi.org/10.21437/Interspeech.2017-614). Instead of averaging the teachers' soft labels,
 * each mini-batch draws one teacher uniformly and the student learns from its soft labels alone,
 * so over training it sees every teacher's (possibly complementary) knowledge without the average
 * washing it out:
 *   r ~ U{1..K} per mini-batch,   loss = gamma * CE(s, y) + alpha * T^2 * KL(softmax(t_r/T) || softmax(s/T)).
 * The draw comes from the run's Rng forked per epoch (a resumed run draws the same teachers).
 * Defaults: the CRD benchmark's KD weights and temperature.
 *
 * No public code from the authors (searched: the code corpus for the paper's title).
 */
import { crossEntropy, defineMethod, softTargetKL } from '@kdbench/core';
import type { Rng } from '@kdbench/engine';
import { tf } from '@kdbench/engine';
import { ensembleOf, ensembleOutputs, parseTeachers, teacherAccuracies } from './shared/ensemble.js';
import { checkEnsembleSize, DEFAULT_TEACHERS, TEACHERS_DOC } from './shared/hyper.js';

export const randteacher = defineMethod({
  id: 'randteacher',
  title: 'Random teacher per mini-batch',
  paper: {
    authors: 'T. Fukuda, M. Suzuki, G. Kurata, S. Thomas, J. Cui, B. Ramabhadran',
    title: 'Efficient Knowledge Distillation from an Ensemble of Teachers',
    venue: 'Interspeech',
    year: 2017,
    url: 'https://doi.org/10.21437/Interspeech.2017-614',
  },
  family: 'multi-teacher',
  knowledge: 'response',
  scheme: 'offline',
  teacher: 'required',
  teacherOutputs: 'logits',
  defaults: { T: 4, gamma: 0.1, alpha: 0.9, teachers: DEFAULT_TEACHERS },
  hyperDocs: {
    T: 'softmax temperature of the chosen teacher and the student',
    gamma: 'weight of the cross-entropy with labels',
    alpha: 'weight of the T^2-scaled KL to the chosen teacher',
    teachers: TEACHERS_DOC,
  },
  deviations:
    'The paper (speech acoustic models) mixes hard and soft cross-entropies as (1 - lambda) CE + lambda CE_soft; ' +
    'here the soft term is the T^2-scaled KL with the CRD benchmark\'s KD weights, which differs from CE_soft by a ' +
    'constant in the student\'s parameters.',
  extraTeachers: (hp, teacher) => parseTeachers('randteacher', hp.teachers, teacher),
  create: (ctx) => {
    const { hp } = ctx;
    const { models, extra } = ensembleOf(ctx);
    checkEnsembleSize('randteacher', models.length, 2);
    let rng: Rng = ctx.rng.fork(0);
    return {
      parts: { teachers: { onEpochStart: (epoch) => { rng = ctx.rng.fork(epoch); }, metrics: (evaluate) => teacherAccuracies(models, evaluate) } },
      losses: (io) => {
        const r = rng.int(models.length);
        // only the drawn teacher's output is read (io.teachers is still computed as a whole by the trainer)
        const teacher = r === 0 ? io.teacher : ensembleOutputs(io, extra, 'randteacher')[r]!;
        return {
          ce: tf.mul(crossEntropy(io.student.logits, io.labels), hp.gamma),
          kd: tf.mul(softTargetKL(io.student.logits, teacher.logits, hp.T), hp.alpha),
        };
      },
    };
  },
});
