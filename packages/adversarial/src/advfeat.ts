/**
 * Adversarial feature distillation: Y. Wang, C. Xu, C. Xu, D. Tao, "Adversarial Learning of Portable
 * Student Networks", AAAI 2018 (https://ojs.aaai.org/index.php/AAAI/article/view/11667).
 *
 * The student is the generator of a GAN over features: a discriminator D tells the teacher's
 * penultimate features (the pooled embedding fed to the classifier, "real") from the student's
 * ("fake"), and the student learns to fool it besides learning from labels and soft targets; the
 * survey (section 5.1) writes this representative model as
 *   L = CE(s, y) + alpha * KL(t, s) + beta * L_GAN(f_s, f_t).
 * Here L_GAN is the non-saturating BCE objective:
 *   L_D = BCE(D(f_t), 1) + BCE(D(f_s), 0)                    (player 'discriminator', Adam)
 *   L_S = gamma * CE + alpha * T^2 * KL(t/T || s/T) + beta * BCE(D(f_s), 1).
 * When the embeddings differ in size, a linear connector (trained with the student) maps f_s to f_t's size.
 *
 * No public code from the authors (searched: the code corpus for the paper's title and authors).
 */
import { crossEntropy, defineMethod, Embed, moduleSeed, owning, softTargetKL } from '@kdbench/core';
import { tf } from '@kdbench/engine';
import { bceWithLogits, featureDiscriminatorOptimizer, MlpDiscriminator } from './shared/gan.js';

export const advfeat = defineMethod({
  id: 'advfeat',
  title: 'Adversarial feature distillation (discriminator on penultimate features + KD)',
  paper: {
    authors: 'Y. Wang, C. Xu, C. Xu, D. Tao',
    title: 'Adversarial Learning of Portable Student Networks',
    venue: 'AAAI',
    year: 2018,
    url: 'https://ojs.aaai.org/index.php/AAAI/article/view/11667',
  },
  family: 'adversarial',
  knowledge: 'feature',
  scheme: 'offline',
  teacher: 'required',
  defaults: { T: 4, gamma: 0.1, alpha: 0.9, beta: 1, hidden: 256, lrD: 0.001 },
  hyperDocs: {
    T: 'KD temperature',
    gamma: 'weight of the cross-entropy with labels',
    alpha: 'weight of the KD term',
    beta: 'weight of the adversarial feature term',
    hidden: "units of each of the discriminator's two hidden layers",
    lrD: 'discriminator learning rate (SGD, momentum 0.9, weight decay 5e-4, the networks\' schedule)',
  },
  smallHyper: { hidden: 8 },
  deviations:
    'The objective is the survey\'s form of this model with the CRD benchmark\'s KD weights (gamma 0.1, alpha 0.9, T 4) and beta 1; ' +
    'the paper\'s text was not available here, so the discriminator (MLP, two hidden layers) is ours and its optimiser is ' +
    'MEAL\'s official one (SGD, rate 1e-3), the nearest published feature-discriminator setup: with Adam at 2e-4 the ' +
    'discriminator won within 3 quick epochs and the adversarial term then dominated the student\'s loss (-14.8 points).',
  create: ({ hp, rng, studentShapes, teacherShapes }) => {
    const dim = (shapes: typeof studentShapes | undefined) => shapes?.find((s) => s.name === 'embedding')?.channels ?? 0;
    const ds = dim(studentShapes);
    const dt = dim(teacherShapes);
    if (!ds || !dt) throw new Error('advfeat: student and teacher need an embedding (pooled penultimate features)');
    const connector = ds === dt ? undefined : new Embed(ds, dt, moduleSeed(rng, 'connector'), false);
    const d = new MlpDiscriminator(moduleSeed(rng, 'discriminator'), [dt, hp.hidden, hp.hidden, 1]);
    const studentFeature = (f: tf.Tensor2D) => (connector ? connector.apply(f) : f);
    return {
      parts: { ...(connector ? { connector } : {}), discriminator: owning(d) },
      procedure: {
        players: [{
          name: 'discriminator',
          optimizer: featureDiscriminatorOptimizer(hp.lrD),
          variables: () => d.trainableVariables(),
          losses: (io) => ({
            real: bceWithLogits(d.apply(io.teacher.embedding), 1),
            fake: bceWithLogits(d.apply(studentFeature(io.student.embedding)), 0),
          }),
        }],
      },
      losses: (io) => ({
        ce: tf.mul(crossEntropy(io.student.logits, io.labels), hp.gamma),
        kd: tf.mul(softTargetKL(io.student.logits, io.teacher.logits, hp.T), hp.alpha),
        adversarial: tf.mul(bceWithLogits(d.apply(studentFeature(io.student.embedding)), 1), hp.beta),
      }),
    };
  },
});
