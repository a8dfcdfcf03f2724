/**
 * AE-KD: S. Du, S. You, X. Li, J. Wu, F. Wang, C. Qian and C. Zhang, "Agree to Disagree: Adaptive
 * Ensemble Knowledge Distillation in Gradient Space", NeurIPS 2020
 * (https://proceedings.neurips.cc/paper/2020/hash/91c77393975889bd08f301c9e13a44b7-Abstract.html;
 * code: github.com/AnTuo1998/AE-KD).
 *
 * Ensemble distillation as multi-objective optimisation: every batch, the teachers' KD losses
 * L_m = T^2 KL(softmax(t_m/T) || softmax(s/T)) are weighted by the minimum-norm convex combination
 * of their gradients with respect to the student's logits, with each weight capped at the tolerance
 * C (shared/min-norm.ts):
 *   g_m = mean over the batch rows of dL_m/ds = mean_b (T / B) (softmax(s_b/T) - softmax(t_mb/T))
 *   w = argmin_{sum w = 1, 0 <= w <= C} || sum_m w_m g_m ||^2
 *   loss = gamma * CE(s, y) + alpha * sum_m w_m L_m
 * The weights are constants of the step (the reference detaches them), recomputed on every batch.
 * Defaults: the reference code's (gamma 1, alpha 0.9, T = 4, C = 0.6; its vectors are not normalised).
 *
 * Checked against the authors' code: AnTuo1998/AE-KD helper/loops.py (train_distill_Multi_teacher,
 * AEKD branch), helper/optimization.py (find_optimal_svm), distiller_zoo/KD.py and train_student.py
 * @ 68f490e: per-teacher T^2 batch-mean KL, gradients taken with respect to the student logits and
 * averaged over the batch rows, not normalised (--svm_norm off), weights capped at C through
 * nu = 1/(C K) and used as constants, gamma 1, alpha 0.9, T 4, C 0.6 match.
 */
import { crossEntropy, defineMethod, softTargetKL } from '@kdbench/core';
import { tf } from '@kdbench/engine';
import { ensembleOf, ensembleOutputs, parseTeachers, teacherAccuracies } from './shared/ensemble.js';
import { checkEnsembleSize, checkRange, DEFAULT_TEACHERS, TEACHERS_DOC } from './shared/hyper.js';
import { gramOf, minNormWeights } from './shared/min-norm.js';

/**
 * Per-teacher gradient vectors of the batch-mean KD loss with respect to the student logits,
 * averaged over the batch rows (the reference's vec_mean): [K, C] as numbers (no gradient).
 */
export function logitGradients(student: tf.Tensor2D, teachers: readonly tf.Tensor2D[], T: number): Float32Array[] {
  return tf.tidy(() => {
    const b = student.shape[0];
    const ps = tf.softmax(tf.div(student, T));
    return teachers.map((t) => tf.mean(tf.mul(tf.sub(ps, tf.softmax(tf.div(t, T))), T / b), 0).dataSync() as Float32Array);
  });
}

export const aekd = defineMethod({
  id: 'aekd',
  title: 'Adaptive ensemble KD in gradient space (AE-KD)',
  paper: {
    authors: 'S. Du, S. You, X. Li, J. Wu, F. Wang, C. Qian, C. Zhang',
    title: 'Agree to Disagree: Adaptive Ensemble Knowledge Distillation in Gradient Space',
    venue: 'NeurIPS',
    year: 2020,
    url: 'https://proceedings.neurips.cc/paper/2020/hash/91c77393975889bd08f301c9e13a44b7-Abstract.html',
  },
  family: 'multi-teacher',
  knowledge: 'response',
  scheme: 'offline',
  teacher: 'required',
  teacherOutputs: 'logits',
  defaults: { T: 4, gamma: 1, alpha: 0.9, C: 0.6, teachers: DEFAULT_TEACHERS },
  hyperDocs: {
    T: 'softmax temperature of teachers and student',
    gamma: 'weight of the cross-entropy with labels',
    alpha: 'weight of the adaptively weighted sum of the teachers\' KD losses',
    C: 'tolerance: upper bound of each teacher\'s weight (clamped to [1/K, 1])',
    teachers: TEACHERS_DOC,
  },
  deviations:
    'The per-batch weights solve the paper\'s capped min-norm problem by projected gradient descent instead of the ' +
    'reference code\'s one-class SVM (the same convex problem, solved to a tolerance of 1e-10).',
  extraTeachers: (hp, teacher) => parseTeachers('aekd', hp.teachers, teacher),
  create: (ctx) => {
    const { hp } = ctx;
    checkRange('aekd', 'C', hp.C, 0, 1);
    const { models, extra } = ensembleOf(ctx);
    checkEnsembleSize('aekd', models.length, 2);
    return {
      parts: { teachers: { metrics: (evaluate) => teacherAccuracies(models, evaluate) } },
      losses: (io) => {
        const teachers = ensembleOutputs(io, extra, 'aekd').map((o) => o.logits);
        const weights = minNormWeights(gramOf(logitGradients(io.student.logits, teachers, hp.T)), hp.C);
        const kd = tf.addN(teachers.map((t, m) => tf.mul(softTargetKL(io.student.logits, t, hp.T), weights[m]!)));
        return {
          ce: tf.mul(crossEntropy(io.student.logits, io.labels), hp.gamma),
          kd: tf.mul(kd, hp.alpha) as tf.Scalar,
        };
      },
    };
  },
});
