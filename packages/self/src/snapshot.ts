/**
 * Snapshot distillation: C. Yang, L. Xie, C. Su, A. L. Yuille, "Snapshot Distillation:
 * Teacher-Student Optimization in One Generation", CVPR 2019 (arXiv:1812.00123,
 * https://arxiv.org/abs/1812.00123).
 *
 * Teacher-student optimisation inside one training run: the learning rate follows a cyclic
 * schedule (cosine annealing from the base rate within each cycle, restarting at every cycle), and
 * the network's snapshot at the end of each cycle teaches the whole next cycle. The teacher signal
 * is smoothed by a temperature on the teacher's side only:
 *   L = (1 + 1/T) * CE(s, y) + KL(softmax(t/T) || softmax(s))      (cycles after the first)
 *   L = CE(s, y)                                                   (first cycle, no teacher yet)
 * (the weights 1 + 1/T and 1 and T = 3 as in a public re-implementation of the paper's CIFAR setup;
 * its cross-entropy with the soft targets differs from this KL by the teacher's entropy, a constant).
 * The snapshot is a network of the student's architecture (in the contract's `networks`, so a
 * resumed run keeps it) into which the student's weights and batch-norm statistics are copied at
 * every cycle boundary; it runs in eval mode. Cycles: 4 equal cycles of the run's epochs (300
 * epochs in 4 cycles in the CIFAR setup; the quick protocol's 12 epochs give 3-epoch cycles).
 *
 * No public code from the authors (searched: the code corpus for the paper's title; the first
 * author's site, Chenglin-Yang/starter-hugo-academic
 * content/publication/snapshot_distillation/index.md @ 308fe76, leaves url_code empty).
 */
import { crossEntropy, defineMethod, softTargetKL, stopGradient, type LossTerms } from '@kdbench/core';
import { tf } from '@kdbench/engine';
import { copyWeights } from './shared/copy.js';

/** First epoch of each cycle: round(c * epochs / cycles) for c = 0..cycles-1 (cycles capped at epochs). */
export function cycleStarts(epochs: number, cycles: number): number[] {
  if (!Number.isInteger(cycles) || cycles < 1) throw new Error(`snapshot: cycles must be a positive integer, got ${cycles}`);
  const n = Math.min(cycles, epochs);
  return Array.from({ length: n }, (_, c) => Math.round((c * epochs) / n));
}

/** Cosine annealing restarted at every cycle: base/2 * (1 + cos(pi * position within the cycle)). */
export function cyclicLearningRate(base: number, epoch: number, epochs: number, cycles: number): number {
  const starts = cycleStarts(epochs, cycles);
  const c = starts.filter((s) => s <= epoch).length - 1;
  const end = starts[c + 1] ?? epochs;
  return (base / 2) * (1 + Math.cos((Math.PI * (epoch - starts[c]!)) / (end - starts[c]!)));
}

export const snapshot = defineMethod({
  id: 'snapshot',
  title: 'Snapshot distillation (the previous cycle teaches)',
  paper: {
    authors: 'C. Yang, L. Xie, C. Su, A. L. Yuille',
    title: 'Snapshot Distillation: Teacher-Student Optimization in One Generation',
    venue: 'CVPR',
    year: 2019,
    url: 'https://arxiv.org/abs/1812.00123',
  },
  family: 'self',
  knowledge: 'response',
  scheme: 'self',
  teacher: 'none',
  defaults: { cycles: 4, T: 3 },
  hyperDocs: {
    cycles: 'learning-rate cycles over the run\'s epochs, equal in length (4 cycles of 300 epochs in the CIFAR setup, so 3-epoch cycles in the quick protocol; capped at the number of epochs)',
    T: 'temperature smoothing the snapshot teacher\'s outputs; the CE weight is 1 + 1/T',
  },
  deviations:
    'The learning rate changes per epoch, not per iteration; the weights (1 + 1/T, 1), T = 3 and 4 equal cycles follow a public re-implementation of the paper\'s CIFAR setup, not checked against the authors\' code (none is public).',
  smallHyper: { cycles: 2 },
  create: (ctx) => {
    const { hp } = ctx;
    const starts = cycleStarts(ctx.epochs, hp.cycles);
    const teacher = ctx.createNetwork('snapshot');
    const taught = (epoch: number) => starts.length > 1 && epoch >= starts[1]!;
    return {
      procedure: {
        networks: { snapshot: { model: teacher, trainInMain: false } },
        main: { schedule: (base, epoch, epochs) => cyclicLearningRate(base, epoch, epochs, hp.cycles) },
      },
      parts: {
        snapshot: {
          onEpochStart: (epoch) => {
            if (epoch > 0 && starts.includes(epoch)) copyWeights(ctx.student, teacher);
          },
          metrics: (evaluate): Record<string, number> => (starts.length > 1 ? { snapshot: evaluate(teacher).top1 } : {}),
        },
      },
      losses: (io) => {
        const ce = crossEntropy(io.student.logits, io.labels);
        if (!taught(io.epoch)) return { ce };
        const soft = tf.div(stopGradient(teacher.forward(io.x, { training: false }).logits), hp.T) as tf.Tensor2D;
        const terms: LossTerms = {
          ce: tf.mul(ce, 1 + 1 / hp.T),
          // KL(softmax(t/T) || softmax(s)): softTargetKL at temperature 1 with t/T as the teacher's logits
          kd: softTargetKL(io.student.logits, soft, 1),
        };
        return terms;
      },
    };
  },
});
