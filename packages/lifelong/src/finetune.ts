/**
 * finetune: the lower bound of class-incremental learning — the network learns each task with
 * cross-entropy on that task's data only, over the output units of every class seen so far (a head
 * that grows with the tasks), with no memory of old data and no distillation, so it forgets the old
 * classes catastrophically (McCloskey & Cohen 1989; the "fine-tuning" baseline of Rebuffi et al.,
 * "iCaRL: Incremental Classifier and Representation Learning", CVPR 2017, and of the survey, 5.8).
 */
import { crossEntropy, defineMethod } from '@kdbench/core';
import { INCREMENTAL_DEFAULTS, INCREMENTAL_DOCS, classIncremental, planTasks, seenLogits } from './incremental.js';

export const finetune = defineMethod({
  id: 'finetune',
  title: 'Class-incremental fine-tuning (lower bound)',
  paper: {
    authors: 'S.-A. Rebuffi, A. Kolesnikov, G. Sperl, C. H. Lampert',
    title: 'iCaRL: Incremental Classifier and Representation Learning (fine-tuning baseline)',
    venue: 'CVPR',
    year: 2017,
    url: 'https://arxiv.org/abs/1611.07725',
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
      losses: (io, k) => ({ ce: crossEntropy(seenLogits(io.student.logits, plan.seen(k), ctx.numClasses), io.labels) }),
    });
  },
});
