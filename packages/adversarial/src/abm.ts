/**
 * Generator-augmented adversarial distillation (the survey's first kind of adversarial KD,
 * section 5.1): adversarial belief matching of P. Micaelli, A. Storkey, "Zero-shot Knowledge Transfer
 * via Adversarial Belief Matching", NeurIPS 2019 (arXiv:1905.09768, https://arxiv.org/abs/1905.09768),
 * which the survey cites for "an adversarial generator to generate hard examples for knowledge
 * transfer", used to augment the real training set as in the survey's other example of this kind
 * (R. Liu, N. Fusi, L. Mackey, "Teacher-Student Compression with Generative Adversarial Networks",
 * arXiv:1812.02271, 2018, whose GAN samples augment the compression set).
 *
 * A generator G (no condition) produces images on which student and teacher disagree most; the
 * student learns from the real batch (labels and soft targets) and from a batch of those hard
 * generated images (soft targets only):
 *   L_G = -KL(softmax(t(G(z))) || softmax(s(G(z))))                      (player 'generator', Adam)
 *   L_S = gamma * CE(s(x), y) + alpha * T^2 * KL(t(x)/T || s(x)/T) + lambda * KL(t(G(z')) || s(G(z')))
 * with KL at temperature 1 on generated images (as ZSKT) and G(z') a fresh generated batch of
 * genRatio x batch images. The student sees generated images with batch statistics but without
 * updating its batch-norm running statistics, which must describe the real images it is evaluated
 * on (before this, two of every three student passes moved them towards generated images; 3-epoch
 * check, seed 1: 27.0 -> 28.7 top-1). Defaults: ZSKT's generator (latent 100, Adam lr 1e-3) and the CRD
 * benchmark's KD weights on real images.
 *
 * The authors' code of the belief-matching game (polo5/ZeroShotKnowledgeTransfer solver.py @
 * e24915d) computes the disagreement as F.kl_div at T = 1 with its default element mean, i.e. the
 * batch-mean KL divided by the class count, generator and student alike; here the generated-image
 * term is the batch-mean KL (lambda = 1 thus weighs it C times more than ZSKT's own scale). The
 * rest of this method is a composition of ours (see deviations), with no code of its own to check.
 */
import { Generator, crossEntropy, defineMethod, moduleSeed, owning, softTargetKL } from '@kdbench/core';
import { tf } from '@kdbench/engine';

const KEEP_STATS = { keepRunningStats: true } as const;

export const abm = defineMethod({
  id: 'abm',
  title: 'Adversarial belief matching on real + generated hard samples (generator-augmented KD)',
  paper: {
    authors: 'P. Micaelli, A. Storkey',
    title: 'Zero-shot Knowledge Transfer via Adversarial Belief Matching',
    venue: 'NeurIPS',
    year: 2019,
    url: 'https://arxiv.org/abs/1905.09768',
  },
  family: 'adversarial',
  knowledge: 'response',
  scheme: 'offline',
  teacher: 'required',
  teacherOutputs: 'logits',
  defaults: { T: 4, gamma: 0.1, alpha: 0.9, lambda: 1, genRatio: 0.5, latent: 100, width: 64, lrG: 0.001 },
  hyperDocs: {
    T: 'KD temperature on real images',
    gamma: 'weight of the cross-entropy with labels',
    alpha: 'weight of the KD term on real images',
    lambda: 'weight of the KL term on generated images',
    genRatio: 'generated images per step, as a fraction of the batch size',
    latent: 'generator latent size',
    width: 'generator base width',
    lrG: 'generator learning rate (Adam), annealed with the protocol schedule',
  },
  smallHyper: { latent: 16, width: 4 },
  deviations:
    'Micaelli & Storkey train the student on generated images only (zero-shot, see data-free zskt); here the hard generated ' +
    'images augment the real batch, the survey\'s generator-augmented kind; one generator step per student step (ZSKT: 1 per 10), ' +
    'no attention term on generated images.',
  create: ({ hp, rng, teacher, student, batchSize }) => {
    const g = new Generator(moduleSeed(rng, 'generator'), { latent: hp.latent, width: hp.width, tanh: false, bnEps: 1e-5 });
    const n = Math.max(2, Math.round(hp.genRatio * batchSize));
    const disagreement = (images: tf.Tensor4D) =>
      softTargetKL(student.forward(images, { training: true, hooks: KEEP_STATS }).logits, teacher.forward(images, { training: false }).logits, 1);
    return {
      parts: { generator: owning(g) },
      procedure: {
        players: [{
          name: 'generator',
          optimizer: { kind: 'adam', lr: hp.lrG, beta1: 0.9, beta2: 0.999, schedule: true },
          variables: () => g.trainableVariables(),
          // ':0': the code stream of the player's (only) step of the batch
          losses: (io) => ({ disagreement: tf.neg(disagreement(g.sample(rng.fork(io.epoch).fork(`generator:${io.step}:0`), n))) as tf.Scalar }),
        }],
      },
      losses: (io) => ({
        ce: tf.mul(crossEntropy(io.student.logits, io.labels), hp.gamma),
        kd: tf.mul(softTargetKL(io.student.logits, io.teacher.logits, hp.T), hp.alpha),
        generated: tf.mul(disagreement(g.sample(rng.fork(io.epoch).fork(`student:${io.step}`), n)), hp.lambda),
      }),
    };
  },
});
