/**
 * DFAD: G. Fang, J. Song, C. Shen, X. Wang, D. Chen, M. Song, "Data-Free Adversarial
 * Distillation", arXiv:1912.11006, 2019 (https://arxiv.org/abs/1912.11006).
 *
 * A min-max game between a generator G and the student S around the teacher T: the discrepancy
 * between teacher and student logits on generated images, measured by the mean absolute error
 * (MAE, which the paper prefers to KL for its non-vanishing gradients),
 *   D(x) = mean |y_T(x) - y_S(x)|,
 * is maximised by the generator (hard samples) and minimised by the student:
 *   L_G = -D(G(z)),   L_S = D(G(z)) for fresh z.
 * No training image is used: `data: 'none'`. Defaults: the authors' CIFAR generator (latent 256,
 * width 64) with Adam lr 1e-3, decayed with the student's schedule.
 *
 * Checked against the authors' code: VainF/Data-Free-Adversarial-Distillation DFAD_cifar.py,
 * network/gan.py (GeneratorA) and README.md @ c161591: F.l1_loss of student against detached
 * teacher logits for the student, -F.l1_loss for the generator, 5 student steps on fresh codes then
 * one generator step, nz = 256, Adam lr_G 1e-3, the student in train mode during the generator
 * step, and the README's --scheduler (both rates x0.1 at epochs 100 and 200) match.
 */
import { defineMethod } from '@kdbench/core';
import { tf } from '@kdbench/engine';
import { generatorGame } from './shared/generator-game.js';

/** Mean absolute difference of two logit matrices (F.l1_loss, mean over all entries). */
export function logitMAE(a: tf.Tensor2D, b: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.abs(tf.sub(a, b))) as tf.Scalar);
}

export const dfad = defineMethod({
  id: 'dfad',
  title: 'DFAD: data-free adversarial distillation (generator vs student, logit MAE)',
  paper: {
    authors: 'G. Fang, J. Song, C. Shen, X. Wang, D. Chen, M. Song',
    title: 'Data-Free Adversarial Distillation',
    venue: 'arXiv',
    year: 2019,
    url: 'https://arxiv.org/abs/1912.11006',
  },
  family: 'data-free',
  knowledge: 'response',
  scheme: 'offline',
  teacher: 'required',
  data: 'none',
  defaults: { latent: 256, width: 64, lrG: 0.001, studentSteps: 5 },
  hyperDocs: {
    studentSteps: 'student steps per generator step (the authors: 5)',
    latent: 'generator latent size',
    width: "generator base width (the reference generator's 64)",
    lrG: 'generator learning rate (Adam), decayed with the protocol schedule',
  },
  smallHyper: { latent: 16, width: 4 },
  deviations:
    'The student takes its 5 steps per generator step as in the authors\' code, each on a fresh generated batch of the protocol\'s ' +
    'batch size (the authors: batch 256, 50 iterations x 500 epochs); the student uses the protocol SGD.',
  create: (ctx) => generatorGame(ctx, {
    schedule: true,
    studentStepsPerGeneratorStep: ctx.hp.studentSteps,
    generatorLosses: (images) => {
      const t = ctx.teacher.forward(images, { training: false }).logits;
      const s = ctx.student.forward(images, { training: true }).logits;
      return { discrepancy: tf.neg(logitMAE(s, t)) as tf.Scalar };
    },
    studentLosses: (io) => ({ discrepancy: logitMAE(io.student.logits, io.teacher.logits) }),
  }),
});
