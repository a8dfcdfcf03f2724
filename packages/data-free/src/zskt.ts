/**
 * ZSKT: P. Micaelli, A. Storkey, "Zero-shot Knowledge Transfer via Adversarial Belief Matching",
 * NeurIPS 2019 (arXiv:1905.09768, https://arxiv.org/abs/1905.09768).
 *
 * Adversarial belief matching without data: a generator G produces pseudo images on which the
 * student disagrees most with the teacher, and the student learns to agree on them, also matching
 * the teacher's spatial attention (Zagoruyko & Komodakis) at the end of every stage:
 *   D = KL(softmax(y_T) || softmax(y_S)),  T = 1, averaged over batch and classes (the reference's
 *       F.kl_div default, i.e. batch-mean KL / C);
 *   L_G = -D(G(z));
 *   L_S = D + beta * sum_l mean_ij (a_S^l - a_T^l)^2,  a^l = L2-normalised channel mean of f_l^2.
 * No training image is used: `data: 'none'`. Defaults: the authors' CIFAR-10 script (z 100,
 * beta 250, generator Adam lr 1e-3 with the learning rate annealed like the student's).
 *
 * Checked against the authors' code: polo5/ZeroShotKnowledgeTransfer solver.py (divergence,
 * attention, KT_loss_generator, KT_loss_student) and scripts/ZeroShot/main0.sh @ e24915d: the
 * element-mean F.kl_div at T = 1 for both players, the attention term (F.normalize of the channel
 * mean of f^2, squared difference averaged, summed over the three groups, AT_beta 250), z 100,
 * generator Adam 1e-3 with the rate annealed, 10 student steps per generator step, match; the
 * differences are those of the deviations.
 */
import { attentionMap, defineMethod, matchSpatial, softTargetKL, stagePairs } from '@kdbench/core';
import { tf } from '@kdbench/engine';
import type { ForwardResult } from '@kdbench/models';
import { generatorGame } from './shared/generator-game.js';

/** ZSKT's divergence: KL(teacher || student) at T = 1, mean over batch and classes. */
export function beliefDivergence(student: tf.Tensor2D, teacher: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.div(softTargetKL(student, teacher, 1), student.shape[1]) as tf.Scalar);
}

/** Sum over stage ends of the mean squared difference of AT attention maps (ZSKT's attention term). */
export function attentionTerm(s: ForwardResult, t: ForwardResult): tf.Scalar {
  return tf.tidy(() => {
    const pairs = stagePairs(s.features, t.features).map(([fs, ft]) => {
      const [a, b] = matchSpatial(fs.post, ft.post);
      return tf.mean(tf.squaredDifference(attentionMap(a), attentionMap(b)));
    });
    return (pairs.length ? tf.addN(pairs) : tf.scalar(0)) as tf.Scalar;
  });
}

export const zskt = defineMethod({
  id: 'zskt',
  title: 'ZSKT: zero-shot knowledge transfer via adversarial belief matching',
  paper: {
    authors: 'P. Micaelli, A. Storkey',
    title: 'Zero-shot Knowledge Transfer via Adversarial Belief Matching',
    venue: 'NeurIPS',
    year: 2019,
    url: 'https://arxiv.org/abs/1905.09768',
  },
  family: 'data-free',
  knowledge: 'response',
  scheme: 'offline',
  teacher: 'required',
  data: 'none',
  defaults: { beta: 250, latent: 100, width: 64, lrG: 0.001, studentSteps: 10 },
  hyperDocs: {
    beta: 'weight of the attention-transfer term in the student loss',
    latent: 'generator latent size',
    width: "generator base width (the reference generator's 64)",
    lrG: 'generator learning rate (Adam), annealed with the protocol schedule',
    studentSteps: 'student steps per generator step (the paper: 10)',
  },
  smallHyper: { latent: 16, width: 4 },
  deviations:
    '10 student steps per generator step as in the paper, but each student step on a fresh pseudo batch (the authors take the ' +
    '10 student steps on the same pseudo batch; 80k batches of 128); ' +
    'the student uses the protocol SGD and schedule instead of Adam lr 2e-3 with cosine annealing, and no gradient-norm clipping (5 in the reference); ' +
    'the generator starts from 8x8 maps upsampled x2 twice instead of 10x10 maps upsampled x1.6 then x2 (same 32x32 output).',
  create: (ctx) => {
    const { hp } = ctx;
    return generatorGame(ctx, {
      generator: { tanh: false, bnEps: 1e-5 },
      schedule: true,
      studentStepsPerGeneratorStep: hp.studentSteps,
      generatorLosses: (images) => {
        const t = ctx.teacher.forward(images, { training: false }).logits;
        const s = ctx.student.forward(images, { training: true }).logits;
        return { divergence: tf.neg(beliefDivergence(s, t)) as tf.Scalar };
      },
      studentLosses: (io) => ({
        divergence: beliefDivergence(io.student.logits, io.teacher.logits),
        attention: tf.mul(attentionTerm(io.student, io.teacher), hp.beta),
      }),
    });
  },
});
