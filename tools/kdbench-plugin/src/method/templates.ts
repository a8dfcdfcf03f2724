/** The files the method generator writes: a method with placeholders and its failing test. */
import type { MethodOptions } from './generator.js';

export function methodFile(o: MethodOptions): string {
  const teacher = o.scheme === 'offline' ? 'required' : 'none';
  return `/**
 * ${o.name.toUpperCase()}: TODO authors, "TODO paper title", TODO venue YEAR (TODO link: https://arxiv.org/abs/...).
 *
 * TODO: what the student learns from the teacher, and the loss as a formula, e.g.
 *   loss = gamma * CE(s, y) + beta * <distillation term>.
 * Defaults: TODO say where they come from (the paper's CIFAR setting, or the CRD benchmark's).
 *
 * Scaffolded by \`npx nx g @kdbench/tools:method\`: fill the placeholders (the conformance test checks
 * paper.url and paper.year), write \`${o.name}Loss\`, then its hand-computed test in
 * test/${o.name}.test.ts. See CONTRIBUTING.md.
 */
import { crossEntropy, defineMethod, type StepIO } from '@kdbench/core';
import { tf } from '@kdbench/engine';

export const ${o.name} = defineMethod({
  id: '${o.name}',
  title: 'TODO: one-line title',
  paper: {
    authors: 'TODO: A. Author, B. Author',
    title: 'TODO: paper title',
    venue: 'TODO: venue',
    year: 0, // TODO: publication year
    url: 'TODO: https://arxiv.org/abs/...',
  },
  family: '${o.family}',
  knowledge: '${o.knowledge}',
  scheme: '${o.scheme}',
  teacher: '${teacher}',
  // teacherOutputs: 'logits', // uncomment when the losses read only io.teacher.logits (teacher-output cache)
  defaults: { gamma: 1, beta: 1 },
  hyperDocs: {
    gamma: 'weight of the cross-entropy with labels',
    beta: 'weight of the distillation term',
  },
  deviations: '',
  create: ({ hp }) => ({
    losses: (io) => ({
      ce: tf.mul(crossEntropy(io.student.logits, io.labels), hp.gamma),
      ${o.name}: tf.mul(${o.name}Loss(io), hp.beta),
    }),
  }),
});

/** The distillation term of one batch (unweighted, a scalar). */
export function ${o.name}Loss(io: StepIO): tf.Scalar {
  void io;
  throw new Error('${o.name}: loss not written yet');
}
`;
}

export function testFile(o: MethodOptions): string {
  return `import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@kdbench/engine';
import { ctxFor, fwd, leakOf, stepIO, value } from '@kdbench/core/testing';
import { ${o.name} } from '../src/${o.name}.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// One image, three classes: student logits s, teacher logits t, label 1 (as in kd.test.ts).
const feats = () => [tf.zeros([1, 2, 2, 1]) as tf.Tensor4D];
const example = () => {
  const f = feats();
  return stepIO(fwd(f, tf.tensor2d([[1, 2, 0]])), fwd(f, tf.tensor2d([[2, 0, 1]])), tf.tensor1d([1], 'int32'));
};

describe('${o.name} (TODO: first author, year)', () => {
  it('gives the hand-computed loss on a 1x3 example', () => {
    const inst = ${o.name}.create(ctxFor(${o.name}, feats(), feats(), { gamma: 1, beta: 1 }));
    const terms = inst.losses(example());
    // CE = -log(e^2 / (e^1 + e^2 + e^0)) = 0.407606
    expect(value(terms.ce!)).toBeCloseTo(0.407606, 5);
    // TODO: compute the distillation term by hand for s = [1, 2, 0], t = [2, 0, 1], y = 1, write the
    // arithmetic in this comment, and put the number here (NaN fails until then).
    const expected = NaN;
    expect(value(terms.${o.name}!)).toBeCloseTo(expected, 5);
  });

  it('keeps no tensors', () => {
    const inst = ${o.name}.create(ctxFor(${o.name}, feats(), feats()));
    expect(leakOf(() => inst.losses(example()))).toBe(0);
  });

  it('has its defaults and cites its paper', () => {
    expect(${o.name}.defaults).toEqual({ gamma: 1, beta: 1 });
    expect(${o.name}.paper?.url).toMatch(/^https:\\/\\//);
    expect(${o.name}.paper?.year).toBeGreaterThan(2010);
  });
});
`;
}
