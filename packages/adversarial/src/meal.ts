/**
 * MEAL: Z. Shen, Z. He, X. Xue, "MEAL: Multi-Model Ensemble via Adversarial Learning", AAAI 2019
 * (arXiv:1812.02425, https://arxiv.org/abs/1812.02425).
 *
 * The student learns the teacher's outputs through a similarity loss and, block-wise, through
 * several discriminators: one per tapped block (the end of every stage, globally average-pooled,
 * and the final logits) tells the teacher's representation from the student's, and the student
 * learns to fool all of them:
 *   L_D = sum_k BCE(D_k(t_k), 1) + BCE(D_k(s_k), 0)              (player 'discriminators', Adam)
 *   L_S = KL(softmax(t) || softmax(s)) + beta * sum_k BCE(D_k(s_k), 1)  [+ gamma * CE(s, y)]
 * MEAL's similarity loss is the cross-entropy of the softened outputs, which equals this KL up to
 * the teacher's entropy (a constant for the student); it trains without the hard labels (gamma 0).
 * As in the authors' code (github.com/AaronHeee/MEAL): each D_k has three linear layers halving the
 * width (C -> C/2 -> C/4 -> score) and is trained by SGD (momentum 0.9, weight decay 5e-4, rate
 * 1e-3, the networks' schedule); a linear connector (trained with the student) maps a student block
 * to the teacher's width where they differ.
 *
 * Checked against the authors' code: AaronHeee/MEAL main.py, loss.py, models/discriminator.py,
 * models/vgg.py and scripts/ @ fd4a23a: the soft cross-entropy at temperature 1, the
 * discriminators' widths (C, C/2, C/4) and their SGD (momentum 0.9, weight decay 5e-4 as for its
 * non-DenseNet students, d_lr 1e-3, the student's schedule) match. Three things differ. (1) Without
 * --grl (argparse default False, and neither script sets it) the student minimises the
 * discriminators' own BCE along with them, in one step on the sum; here the student fools them
 * (non-saturating BCE toward 'real'). (2) The ensemble script (scripts/ensemble_densenet.sh, five
 * teachers, a DenseNet student) taps only the final logits (--out_layer [-1]); the single-VGG
 * script taps five blocks, each a channel mean of an adaptively pooled map (not a global average
 * pool), and applies the soft CE to every block with weights 0.001, 0.01, 0.05, 0.1, 1; here every
 * stage end is globally pooled, and the soft CE is on the logits only. (3) The discriminators use
 * ReLU, also on their two output scores, where ours use LeakyReLU(0.2) and one score.
 */
import { crossEntropy, defineMethod, Embed, moduleSeed, ModuleGroup, owning, softTargetKL, stagePairs, stageShapes } from '@kdbench/core';
import { tf } from '@kdbench/engine';
import type { ForwardResult } from '@kdbench/models';
import { bceWithLogits, featureDiscriminatorOptimizer, MlpDiscriminator } from './shared/gan.js';

/** What MEAL's discriminators see: the first `stages` stage ends (stem excluded), pooled, then the logits. */
export function blockOutputs(out: ForwardResult, stages: number): tf.Tensor2D[] {
  return [...out.features.slice(1, 1 + stages).map((f) => tf.mean(f.post, [1, 2]) as tf.Tensor2D), out.logits];
}

export const meal = defineMethod({
  id: 'meal',
  title: 'MEAL: block-wise adversarial learning with several discriminators',
  paper: {
    authors: 'Z. Shen, Z. He, X. Xue',
    title: 'MEAL: Multi-Model Ensemble via Adversarial Learning',
    venue: 'AAAI',
    year: 2019,
    url: 'https://arxiv.org/abs/1812.02425',
  },
  family: 'adversarial',
  knowledge: 'feature',
  scheme: 'offline',
  teacher: 'required',
  defaults: { gamma: 0, beta: 1, lrD: 0.001 },
  hyperDocs: {
    gamma: 'weight of the cross-entropy with labels (MEAL uses none)',
    beta: 'weight of each block\'s adversarial term',
    lrD: 'discriminators\' learning rate (SGD, momentum 0.9, weight decay 5e-4, the networks\' schedule)',
  },
  deviations:
    'One teacher (MEAL draws one teacher of an ensemble at random per iteration). The discriminators step before the student ' +
    '(the authors\' code takes one step on the sum of both losses) and score with one logit (their code: two).',
  create: ({ hp, rng, numClasses, studentShapes, teacherShapes }) => {
    const pairs = stagePairs(stageShapes(studentShapes), stageShapes(teacherShapes ?? []));
    const widths = [...pairs.map(([s, t]) => [s.channels, t.channels] as const), [numClasses, numClasses] as const];
    const connectors = widths.map(([s, t], k) => (s === t ? undefined : new Embed(s, t, moduleSeed(rng, `connector${k}`), false)));
    const discriminators = widths.map(([, t], k) => new MlpDiscriminator(moduleSeed(rng, `discriminator${k}`), [t, Math.max(1, t >> 1), Math.max(1, t >> 2), 1]));
    const present = connectors.filter((c): c is Embed => c !== undefined);
    const studentBlocks = (out: ForwardResult) =>
      blockOutputs(out, pairs.length).map((b, k) => (connectors[k] ? connectors[k]!.apply(b) : b));
    const teacherBlocks = (out: ForwardResult) => blockOutputs(out, pairs.length);
    return {
      parts: { ...(present.length ? { connectors: new ModuleGroup(present) } : {}), discriminators: owning(...discriminators) },
      procedure: {
        players: [{
          name: 'discriminators',
          optimizer: featureDiscriminatorOptimizer(hp.lrD),
          variables: () => discriminators.flatMap((d) => d.trainableVariables()),
          losses: (io) => {
            const s = studentBlocks(io.student);
            const t = teacherBlocks(io.teacher);
            return Object.fromEntries(discriminators.flatMap((d, k) => [
              [`real${k}`, bceWithLogits(d.apply(t[k]!), 1)],
              [`fake${k}`, bceWithLogits(d.apply(s[k]!), 0)],
            ]));
          },
        }],
      },
      losses: (io) => {
        const s = studentBlocks(io.student);
        const terms: Record<string, tf.Scalar> = {
          similarity: softTargetKL(io.student.logits, io.teacher.logits, 1),
          adversarial: tf.mul(tf.addN(discriminators.map((d, k) => bceWithLogits(d.apply(s[k]!), 1))), hp.beta),
        };
        if (hp.gamma > 0) terms.ce = tf.mul(crossEntropy(io.student.logits, io.labels), hp.gamma);
        return terms;
      },
    };
  },
});
