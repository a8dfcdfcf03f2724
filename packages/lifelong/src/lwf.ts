/**
 * LwF: Li & Hoiem, "Learning without Forgetting", ECCV 2016 / IEEE TPAMI 2017 (arXiv:1606.09282).
 *
 * Each task has its own output units (here the columns of its classes in one linear head, which is
 * the same as one head per task on shared features). Learning task k uses only task k's data: the
 * new task's units learn from labels with a softmax over that task's classes, and for every old task
 * j the network keeps the responses the previous network (a frozen copy taken after task k-1) gives
 * on the new data, through the temperature-softened cross-entropy of Hinton et al. with T = 2:
 *   loss = CE(softmax(s_k), y) + lambda * sum_{j<k} H(softmax(p_j / T), softmax(s_j / T)),
 * s_j / p_j being the student's / previous network's logits of task j's classes, lambda = 1 (the
 * paper's lambda_o). H is computed as the KL divergence (H minus the targets' entropy, a constant
 * for the student: the same gradients), without Hinton's T^2 factor, as in the paper.
 * Evaluation is class-incremental: argmax over the units of all seen classes.
 *
 * Checked against the authors' code: lizhitwo/LearningWithoutForgetting vl_nnsoftmaxdiff.m (mode
 * MI, multiclass), forkAlexNet.m, expandAlexNet.m and snippets/PASCALkeeporig.m @ 795176d: the
 * old-task term is the cross-entropy of the softened recorded response (c^(1/T), renormalised, i.e.
 * softmax(p/T)) against softmax(s/T), its gradient (softmax - c)/T with no T^2, T = 2
 * (distillation_temp) and lambda = 1 (keep_response_lambda) match; the recorded responses and the
 * warm-up step are differences stated in deviations.
 */
import { crossEntropy, defineMethod, softTargetKL, type LossTerms } from '@kdbench/core';
import { tf } from '@kdbench/engine';
import { INCREMENTAL_DEFAULTS, INCREMENTAL_DOCS, classIncremental, columns, copyWeights, planTasks } from './incremental.js';

/**
 * LwF's terms for task k: `ce` over task k's classes, and (k > 0) `kd`, the sum over old tasks of the
 * KL divergence at temperature T between the previous network's and the student's softmax over that
 * task's classes, times lambda. `classes[j]` are task j's classes; labels belong to task k.
 */
export function lwfLoss(
  student: tf.Tensor2D, previous: tf.Tensor2D | null, labels: tf.Tensor1D, classes: readonly number[][], k: number, T: number, lambda: number,
): LossTerms {
  const numClasses = student.shape[1];
  const relabel = tf.tensor1d(Array.from({ length: numClasses }, (_, c) => Math.max(0, classes[k]!.indexOf(c))), 'int32');
  const terms: LossTerms = { ce: crossEntropy(columns(student, classes[k]!), tf.gather(relabel, tf.cast(labels, 'int32'))) };
  if (k === 0 || !previous) return terms;
  const old = classes.slice(0, k).map((cls) => tf.div(softTargetKL(columns(student, cls), columns(previous, cls), T), T * T) as tf.Scalar);
  return { ...terms, kd: tf.mul(tf.addN(old), lambda) as tf.Scalar };
}

export const lwf = defineMethod({
  id: 'lwf',
  title: 'Learning without Forgetting',
  paper: {
    authors: 'Z. Li, D. Hoiem',
    title: 'Learning without Forgetting',
    venue: 'IEEE TPAMI (ECCV 2016)',
    year: 2017,
    url: 'https://arxiv.org/abs/1606.09282',
  },
  family: 'lifelong',
  knowledge: 'response',
  scheme: 'offline',
  teacher: 'none',
  defaults: { ...INCREMENTAL_DEFAULTS, T: 2, lambda: 1 },
  hyperDocs: {
    ...INCREMENTAL_DOCS,
    T: 'temperature of the old-task responses (the paper: 2)',
    lambda: "weight of the old tasks' distillation term (the paper's lambda_o = 1)",
  },
  deviations:
    "The paper's warm-up step (training only the new task's units with the shared layers frozen before joint training) is " +
    'not run: all parameters train from the first epoch of each task; the previous responses come from a frozen copy of the ' +
    'network computed on the augmented batches instead of being recorded once per image; evaluation is class-incremental ' +
    '(argmax over every seen class, no task identity), the survey\'s protocol, where the paper scores each task with its own head.',
  create: (ctx) => {
    const plan = planTasks(ctx);
    const previous = ctx.createNetwork('previous');
    const { T, lambda } = ctx.hp;
    return classIncremental(ctx, plan, {
      losses: (io, k) => lwfLoss(io.student.logits, k > 0 ? previous.forward(io.x, { training: false }).logits : null, io.labels, plan.classes, k, T, lambda),
      beforeNextTask: () => copyWeights(ctx.student, previous),
      networks: { previous: { model: previous, trainInMain: false } },
    });
  },
});
