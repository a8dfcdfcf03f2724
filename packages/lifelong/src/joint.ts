/**
 * joint: the upper bound of class-incremental learning — at each task the network trains on all the
 * data of every class seen so far (no memory limit), with cross-entropy over the seen classes, as
 * the "joint training" reference of the incremental-learning literature (e.g. Li & Hoiem, "Learning
 * without Forgetting", TPAMI 2017; the survey, 5.8). Its per-task evaluations use the same protocol
 * as the other lifelong methods, so its forgetting is the bound they approach.
 */
import { crossEntropy, defineMethod } from '@kdbench/core';
import { INCREMENTAL_DEFAULTS, INCREMENTAL_DOCS, classIncremental, planTasks, seenLogits } from './incremental.js';
import { rowsOfClasses } from './tasks.js';

export const joint = defineMethod({
  id: 'joint',
  title: 'Class-incremental joint training (upper bound)',
  paper: {
    authors: 'Z. Li, D. Hoiem',
    title: 'Learning without Forgetting (joint training reference)',
    venue: 'IEEE TPAMI',
    year: 2017,
    url: 'https://arxiv.org/abs/1606.09282',
  },
  family: 'lifelong',
  knowledge: 'none',
  scheme: 'offline',
  teacher: 'none',
  defaults: INCREMENTAL_DEFAULTS,
  hyperDocs: INCREMENTAL_DOCS,
  deviations: '',
  create: (ctx) => {
    const plan = planTasks(ctx);
    return classIncremental(ctx, plan, {
      rows: (k) => rowsOfClasses(ctx.trainLabels, plan.seen(k)),
      losses: (io, k) => ({ ce: crossEntropy(seenLogits(io.student.logits, plan.seen(k), ctx.numClasses), io.labels) }),
    });
  },
});
