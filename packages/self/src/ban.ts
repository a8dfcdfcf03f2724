/**
 * Born-again networks: T. Furlanello, Z. C. Lipton, M. Tschannen, L. Itti, A. Anandkumar,
 * "Born-Again Neural Networks", ICML 2018 (arXiv:1805.04770, https://arxiv.org/abs/1805.04770).
 *
 * A sequence of identical networks: generation 0 learns from the labels; generation k is a fresh
 * network of the same architecture trained to match generation k-1's output distribution:
 *   L_k = KL(softmax(z_{k-1}) || softmax(z_k)) + gamma * CE(z_k, y)
 * (the teacher's plain softmax, no temperature; the paper's BAN objective is the teacher-output term
 * alone, gamma = 0, and "BAN+L" adds the labels, gamma = 1). With `generations` = K, stages
 * gen0 ... gen(K-1) train the earlier generations one after another, each for the protocol's epochs
 * and schedule, and the main stage trains the student as generation K, taught by generation K-1.
 * Each generation's accuracy is reported (`gen0` ...), and the born-again ensemble (mean of all
 * generations' softmax outputs, the paper's BAN-Ens).
 *
 * No public code from the authors (searched: the code corpus for Born-Again Neural Networks; only
 * unofficial re-implementations, e.g. nocotan/born_again_neuralnet, which calls itself unofficial).
 */
import { crossEntropy, defineMethod, softTargetKL, stopGradient, type LossTerms, type TrainingStage } from '@kdbench/core';
import { tf } from '@kdbench/engine';
import { viewModel, type Model } from '@kdbench/models';

/** The born-again loss of a generation: KL(softmax(teacher) || softmax(student)) [+ gamma * CE]. */
export function bornAgainLoss(student: tf.Tensor2D, teacher: tf.Tensor2D, labels: tf.Tensor1D, T: number, gamma: number): LossTerms {
  const terms: LossTerms = { kd: softTargetKL(student, teacher, T) };
  if (gamma > 0) terms.ce = tf.mul(crossEntropy(student, labels), gamma) as tf.Scalar;
  return terms;
}

/** log of the mean softmax of several networks (eval mode): the ensemble's prediction as logits. */
export function softmaxEnsembleView(id: string, nets: readonly Model[]): Model {
  return viewModel(id, nets[0]!, (x, opts) => {
    const outs = nets.map((n) => n.forward(x, opts));
    const mean = tf.div(tf.addN(outs.map((o) => tf.softmax(o.logits))), nets.length);
    return { ...outs[0]!, logits: tf.log(tf.add(mean, 1e-12)) as tf.Tensor2D };
  });
}

export const ban = defineMethod({
  id: 'ban',
  title: 'Born-again networks (a sequence of generations)',
  paper: {
    authors: 'T. Furlanello, Z. C. Lipton, M. Tschannen, L. Itti, A. Anandkumar',
    title: 'Born-Again Neural Networks',
    venue: 'ICML',
    year: 2018,
    url: 'https://arxiv.org/abs/1805.04770',
  },
  family: 'self',
  knowledge: 'response',
  scheme: 'self',
  teacher: 'none',
  defaults: { generations: 3, T: 1, gamma: 0 },
  hyperDocs: {
    generations: 'born-again generations K after the label-trained generation 0 (the student is generation K); each costs a full training',
    T: 'softmax temperature of the teacher-to-student KL (1: the plain softmax, as in the paper)',
    gamma: 'weight of the label cross-entropy added to the KL (0 = BAN, 1 = the paper\'s BAN+L)',
  },
  deviations: '',
  smallHyper: { generations: 2 },
  create: (ctx) => {
    const { hp } = ctx;
    if (!Number.isInteger(hp.generations) || hp.generations < 1) throw new Error(`ban: generations must be an integer >= 1, got ${hp.generations}`);
    const gens = Array.from({ length: hp.generations }, (_, k) => ctx.createNetwork(`gen${k}`));
    const stages: TrainingStage[] = gens.map((net, k) => ({
      name: `gen${k}`,
      epochs: ctx.epochs,
      schedule: true,
      evaluate: net,
      variables: () => net.trainableVariables(),
      losses: (io) => {
        const z = net.forward(io.x, { training: true }).logits;
        if (k === 0) return { ce: crossEntropy(z, io.labels) };
        return bornAgainLoss(z, stopGradient(gens[k - 1]!.forward(io.x, { training: false }).logits), io.labels, hp.T, hp.gamma);
      },
    }));
    const last = gens.at(-1)!;
    return {
      procedure: { networks: Object.fromEntries(gens.map((net, k) => [`gen${k}`, { model: net, trainInMain: false }])), stages },
      parts: {
        generations: {
          metrics: (evaluate) => ({
            ...Object.fromEntries(gens.map((net, k) => [`gen${k}`, evaluate(net).top1])),
            ensemble: evaluate(softmaxEnsembleView('ban-ensemble', [...gens, ctx.student])).top1,
          }),
        },
      },
      losses: (io) => bornAgainLoss(io.student.logits, stopGradient(last.forward(io.x, { training: false }).logits), io.labels, hp.T, hp.gamma),
    };
  },
});
