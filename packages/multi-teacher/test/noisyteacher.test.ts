import { beforeAll, describe, expect, it } from 'vitest';
import { leakOf, epochStartOf } from '@kdbench/core/testing';
import { Rng, tf } from '@kdbench/engine';
import { logitRegression, noisyteacher, perturbLogits } from '../src/noisyteacher.js';
import { out, step, stub, stubContext, value } from './helpers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('noisyteacher (Sau & Balasubramanian 2016)', () => {
  it('logit regression 1/(2B) sum ||s - z||^2, by hand', () => {
    // rows (1, 2) vs (0, 0) and (0, 1) vs (1, 1): (1 + 4 + 1 + 0) / (2 * 2) = 1.5
    expect(value(logitRegression(tf.tensor2d([[1, 2], [0, 1]]), tf.tensor2d([[0, 0], [1, 1]])))).toBeCloseTo(1.5, 6);
  });

  it('perturbs each sample with probability alpha by z (1 + sigma xi), xi from the Rng', () => {
    const z = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
    expect(perturbLogits(z, 0.5, 0, new Rng(1)).arraySync()).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(perturbLogits(z, 0, 1, new Rng(1)).arraySync()).toEqual([[1, 2, 3], [4, 5, 6]]);
    const got = perturbLogits(z, 0.5, 1, new Rng(9)).arraySync() as number[][];
    const r = new Rng(9); // replica: per row one uniform (the coin), then one normal per logit
    [[1, 2, 3], [4, 5, 6]].forEach((row, i) => {
      r.next();
      row.forEach((v, j) => expect(got[i]![j]).toBeCloseTo(v * (1 + 0.5 * r.normal()), 5));
    });
  });

  it('the loss regresses the perturbed teacher logits; noise repeats per epoch seed; no leak', () => {
    const ctx = () => stubContext(noisyteacher, { alpha: 1, sigma: 0.3 }, stub('resnet20', 0), [], 4);
    const a = noisyteacher.create(ctx()), b = noisyteacher.create(ctx());
    const io = () => step(out([[0.1, 0.2, 0.3]]), out([[2, -1, 0.5]]), [], [0]);
    epochStartOf(a, 2);
    epochStartOf(b, 2);
    const va = value(a.losses(io()).logits!);
    expect(value(b.losses(io()).logits!)).toBe(va);
    const r = new Rng(4).fork(2);
    r.next();
    const target = [2, -1, 0.5].map((v) => v * (1 + 0.3 * r.normal()));
    expect(va).toBeCloseTo([0.1, 0.2, 0.3].reduce((s, v, j) => s + (v - target[j]!) ** 2, 0) / 2, 5);
    expect(Object.keys(a.losses(io()))).toEqual(['logits']);
    const withCe = noisyteacher.create(stubContext(noisyteacher, { gamma: 0.5 }, stub('resnet20', 0), []));
    expect(Object.keys(withCe.losses(io()))).toEqual(['logits', 'ce']);
    expect(leakOf(() => a.losses(io()))).toBe(0);
    expect(() => noisyteacher.create(stubContext(noisyteacher, { alpha: 2 }, stub('resnet20', 0), []))).toThrow(/alpha must be in \[0, 1\]/);
  });
});
