/**
 * Conditional adversarial logit distillation: Z. Xu, Y.-C. Hsu, J. Huang, "Training Shallow and Thin
 * Networks for Acceleration via Knowledge Distillation with Conditional Adversarial Networks",
 * ICLR 2018 Workshop (arXiv:1709.00513, https://arxiv.org/abs/1709.00513).
 *
 * The loss that moves the student's logits towards the teacher's is learned by a discriminator D
 * that tells teacher logits ("real") from student logits ("fake"), conditioned on the image's
 * label: D sees [logits, onehot(y)], so it judges whether the logits are teacher-like for that class.
 *   L_D = BCE(D(t, y), 1) + BCE(D(s, y), 0)                  (player 'discriminator', Adam)
 *   L_S = gamma * CE(s, y) + alpha * T^2 * KL(t/T || s/T) + beta * BCE(D(s, y), 1)
 * i.e. the survey's discriminator-guided form (section 5.1: CE + KL + GAN). D is an MLP with two
 * hidden layers and LeakyReLU(0.2). Defaults: the CRD benchmark's KD weights with beta = 1.
 *
 * No public code from the authors (searched: the code corpus for the paper's title).
 */
import { crossEntropy, defineMethod, moduleSeed, owning, softTargetKL } from '@kdbench/core';
import { tf } from '@kdbench/engine';
import { bceWithLogits, MlpDiscriminator } from './shared/gan.js';

/** D's input: the logits with the label's one-hot appended (label conditioning). */
export function conditionOnLabel(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor2D {
  return tf.tidy(() => tf.concat([logits, tf.oneHot(tf.cast(labels, 'int32'), logits.shape[1]).toFloat()], 1) as tf.Tensor2D);
}

export const cganlogits = defineMethod({
  id: 'cganlogits',
  title: 'Conditional adversarial logit distillation (label-conditioned discriminator + KD)',
  paper: {
    authors: 'Z. Xu, Y.-C. Hsu, J. Huang',
    title: 'Training Shallow and Thin Networks for Acceleration via Knowledge Distillation with Conditional Adversarial Networks',
    venue: 'ICLR Workshop',
    year: 2018,
    url: 'https://arxiv.org/abs/1709.00513',
  },
  family: 'adversarial',
  knowledge: 'response',
  scheme: 'offline',
  teacher: 'required',
  teacherOutputs: 'logits',
  defaults: { T: 4, gamma: 0.1, alpha: 0.9, beta: 1, hidden: 128, lrD: 0.0002 },
  hyperDocs: {
    T: 'KD temperature',
    gamma: 'weight of the cross-entropy with labels',
    alpha: 'weight of the KD term',
    beta: 'weight of the adversarial term (the student fooling the discriminator)',
    hidden: 'units of each of the discriminator\'s two hidden layers',
    lrD: 'discriminator learning rate (Adam, betas 0.5 / 0.999)',
  },
  smallHyper: { hidden: 8 },
  deviations:
    'The label conditioning is the one-hot label appended to the discriminator input, and the adversarial term is added to ' +
    'the CRD benchmark\'s KD (gamma 0.1, alpha 0.9, T 4) as in the survey\'s discriminator-guided form; the discriminator\'s size and ' +
    'optimiser are ours (scaled to CIFAR logits).',
  create: ({ hp, numClasses, rng }) => {
    const d = new MlpDiscriminator(moduleSeed(rng, 'discriminator'), [2 * numClasses, hp.hidden, hp.hidden, 1]);
    return {
      parts: { discriminator: owning(d) },
      procedure: {
        players: [{
          name: 'discriminator',
          optimizer: { kind: 'adam', lr: hp.lrD, beta1: 0.5, beta2: 0.999 },
          variables: () => d.trainableVariables(),
          losses: (io) => ({
            real: bceWithLogits(d.apply(conditionOnLabel(io.teacher.logits, io.labels)), 1),
            fake: bceWithLogits(d.apply(conditionOnLabel(io.student.logits, io.labels)), 0),
          }),
        }],
      },
      losses: (io) => ({
        ce: tf.mul(crossEntropy(io.student.logits, io.labels), hp.gamma),
        kd: tf.mul(softTargetKL(io.student.logits, io.teacher.logits, hp.T), hp.alpha),
        adversarial: tf.mul(bceWithLogits(d.apply(conditionOnLabel(io.student.logits, io.labels)), 1), hp.beta),
      }),
    };
  },
});
