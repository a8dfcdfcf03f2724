/**
 * MEAL: Z. Shen, Z. He, X. Xue, "MEAL: Multi-Model Ensemble via Adversarial Learning", AAAI 2019
 * (arXiv:1812.02425, https://arxiv.org/abs/1812.02425).
 *
 * The student learns the teacher's outputs through a similarity loss and, block-wise, through
 * several discriminators: one per tapped block (the end of every stage, globally average-pooled,
 * and the final logits) tells the teacher's representation from the student's, and the student
 * learns to fool all of them:
 *   L_D = sum_k BCE(D_k(t_k), 1) + BCE(D_k(s_k), 0)              (player 'discriminators', SGD)
 *   L_S = KL(softmax(t) || softmax(s)) + beta * sum_k BCE(D_k(s_k), 1)  [+ gamma * CE(s, y)]
 * MEAL's similarity loss is the cross-entropy of the softened outputs, which equals this KL up to
 * the teacher's entropy (a constant for the student); it trains without the hard labels (gamma 0).
 * As in the authors' code (github.com/AaronHeee/MEAL): each D_k has three linear layers halving the
 * width (C -> C/2 -> C/4 -> score) and is trained by SGD (momentum 0.9, weight decay 5e-4, rate
 * 1e-3, the networks' schedule); a linear connector (trained with the student) maps a student block
 * to the teacher's width where they differ.
 *
 * Checked against the authors' code: AaronHeee/MEAL @ fd4a23a. What matches: the similarity loss
 * (loss.py lines 5-9: soft cross-entropy at temperature 1, batch mean) on the final logits with
 * weight 1, no label loss (main.py lines 193-196, 250); one discriminator per tapped block, adversarial
 * weight 1 each (--eta [1,...]); each discriminator's widths C -> C/2 -> C/4 (models/discriminator.py
 * lines 17-24); its optimiser (main.py lines 165-171 and 214-216: the student's SGD, momentum 0.9,
 * weight decay 5e-4, rate d_lr = 1e-3 from both scripts, the student's MultiStepLR schedule).
 * Where this file departs (also in `deviations`):
 * (1) Teachers: main.py line 244 draws one teacher of the list at random per batch (the ensemble
 *     script, scripts/ensemble_densenet.sh, lists five); here one teacher. utils.py lines 180-182
 *     put the teacher in eval mode only with --teacher_eval, which both scripts set to 0, so the
 *     teacher's batch norm uses batch statistics there; here the teacher runs in eval mode.
 * (2) Direction of the student's adversarial gradient: the reversal layer is applied only with
 *     --grl (models/discriminator.py lines 40-44), whose default is False (main.py line 48) and which
 *     neither script sets; main.py lines 250-257 then take one backward pass and one SGD step on the
 *     similarity loss plus the discriminators' loss over student and discriminators together, so the
 *     student descends the discriminators' own loss (it helps them tell it from the teacher). Here
 *     the discriminators take their own step first and the student then fools them (non-saturating
 *     BCE toward 'real', a GAN generator's step).
 * (3) Discriminator head and loss: the code ends in two scores, each after a ReLU (lines 24, 30),
 *     scored by BCE-with-logits against [1, 0] for the student's rows and [0, 1] for the teacher's,
 *     averaged over the 2B rows and both scores (loss.py lines 45-52); here LeakyReLU(0.2) between
 *     the layers, one unbounded score, and the discriminator loss is the mean BCE on the teacher's
 *     rows plus the mean BCE on the student's (twice the code's average over the joined batch).
 * (4) Tapped blocks: the ensemble script taps only the final logits (--out_layer [-1]); the
 *     single-VGG script (scripts/single_vgg.sh) taps five blocks, each the channel mean of the map
 *     after its spatial axis is adaptively pooled to a fixed length (models/vgg.py lines 33-55;
 *     lengths 10000, 5000, 1000, 500), and applies the similarity loss to every block with weights
 *     0.001, 0.01, 0.05, 0.1, 1. Here every stage end, globally average-pooled to its channel
 *     vector, plus the logits; the similarity loss on the logits only; a linear connector, trained
 *     with the student, maps a student block to the teacher's width where they differ (the code
 *     needs none: same widths, or logits only).
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
    'Departures from the authors\' code (AaronHeee/MEAL @ fd4a23a): (1) one teacher in eval mode; the code draws one ' +
    'teacher of an ensemble at random per batch and runs it in training mode (batch statistics). (2) The discriminators ' +
    'step first, then the student fools them (non-saturating BCE toward real); the code, without its --grl flag (default ' +
    'False, unset in both scripts), takes one SGD step on the similarity plus discriminator loss over student and ' +
    'discriminators, so its student descends the discriminators\' loss. (3) Each discriminator: LeakyReLU(0.2) hidden ' +
    'layers and one unbounded score, loss = mean BCE on teacher rows + mean BCE on student rows; the code: ReLU after ' +
    'every layer including its two output scores, BCE against [1, 0] / [0, 1] averaged over the joined batch. (4) Tapped ' +
    'blocks: every stage end, globally average-pooled, plus the logits, with a linear connector where widths differ; ' +
    'the ensemble script taps the logits only, the single-VGG script five spatially pooled channel means with the ' +
    'similarity loss on each (weights 0.001 to 1); here the similarity loss is on the logits only.',
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
