/**
 * GAN pieces: the objectives on hand-made scores, label conditioning, and a discriminator that learns
 * to separate teacher from student features on a fixed toy case (and cannot on identical ones).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Adam } from '@kdbench/core';
import { leakOf, value } from '@kdbench/core/testing';
import { Rng, tf } from '@kdbench/engine';
import { bceWithLogits, conditionOnLabel, ConvDiscriminator, discriminatorAccuracy, leastSquares, MlpDiscriminator } from '../src/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('GAN objectives', () => {
  it('BCE with logits against real (1) and fake (0)', () => {
    const z = tf.tensor1d([0, 2]);
    // (softplus(0) + softplus(-2)) / 2 = (0.693147 + 0.126928) / 2
    expect(value(bceWithLogits(z, 1))).toBeCloseTo(0.4100376, 5);
    // (softplus(0) + softplus(2)) / 2 = (0.693147 + 2.126928) / 2
    expect(value(bceWithLogits(z, 0))).toBeCloseTo(1.4100376, 5);
    expect(value(bceWithLogits(tf.tensor1d([-80]), 1))).toBeCloseTo(80, 3); // stable far out
  });

  it('least squares', () => {
    const z = tf.tensor1d([0.5, 2]);
    expect(value(leastSquares(z, 1))).toBeCloseTo((0.25 + 1) / 2, 6);
    expect(value(leastSquares(z, 0))).toBeCloseTo((0.25 + 4) / 2, 6);
  });

  it('discriminator accuracy counts real > 0 and fake < 0', () => {
    expect(discriminatorAccuracy(tf.tensor1d([1, -1, 2]), tf.tensor1d([-3, 0.5, -0.1]))).toBeCloseTo(4 / 6, 6);
  });

  it('label conditioning appends the one-hot label', () => {
    const c = conditionOnLabel(tf.tensor2d([[0.5, -1, 2]]), tf.tensor1d([2], 'int32'));
    expect(Array.from(c.dataSync())).toEqual([0.5, -1, 2, 0, 0, 1]);
  });

  it('MLP discriminator: a linear layer with hand-set weights, clear errors', () => {
    const d = new MlpDiscriminator(0, [2, 1]);
    const [w, b] = d.trainableVariables() as [tf.Variable, tf.Variable];
    w.assign(tf.tensor2d([[2], [-1]]));
    b.assign(tf.tensor1d([0.5]));
    expect(Array.from(d.apply(tf.tensor2d([[1, 3], [0, -2]])).dataSync())).toEqual([2 - 3 + 0.5, 2 + 0.5]);
    expect(() => d.apply(tf.zeros([1, 3]) as tf.Tensor2D)).toThrow(/3 features, expected 2/);
    expect(() => new MlpDiscriminator(0, [2])).toThrow(/sizes/);
    d.dispose();
  });

  it('conv discriminator scores [B, 1] and checks its input', () => {
    const d = new ConvDiscriminator(1, { h: 8, w: 8, channels: 4 }, 3);
    expect(d.apply(tf.ones([2, 8, 8, 4]) as tf.Tensor4D).shape).toEqual([2, 1]);
    expect(() => d.apply(tf.ones([2, 4, 4, 4]) as tf.Tensor4D)).toThrow(/differs/);
    expect(leakOf(() => d.apply(tf.ones([2, 8, 8, 4]) as tf.Tensor4D))).toBe(0);
    d.dispose();
  });
});

/** Toy features: teacher rows ~ N(mu_t, 1), student rows ~ N(mu_s, 1) in 4 dims, from a seed. */
function toy(seed: number, n: number, muT: number[], muS: number[]) {
  const r = new Rng(seed);
  const rows = (mu: number[]) => tf.tensor2d(Array.from({ length: n * 4 }, (_, i) => mu[i % 4]! + r.normal()), [n, 4]);
  return { teacher: rows(muT), student: rows(muS) };
}

function trainDiscriminator(muT: number[], muS: number[]): number {
  const d = new MlpDiscriminator(7, [4, 16, 16, 1]);
  const adam = new Adam({ beta1: 0.5, beta2: 0.999 });
  const vars = d.trainableVariables();
  for (let step = 0; step < 150; step++) {
    const b = toy(step, 32, muT, muS);
    tf.tidy(() => {
      const { value: v, grads } = tf.variableGrads(() => tf.add(bceWithLogits(d.apply(b.teacher), 1), bceWithLogits(d.apply(b.student), 0)) as tf.Scalar, vars);
      adam.apply(0.01, vars, grads);
      tf.dispose([v, ...Object.values(grads)]);
    });
    tf.dispose([b.teacher, b.student]);
  }
  const held = toy(10_000, 500, muT, muS);
  const acc = tf.tidy(() => discriminatorAccuracy(d.apply(held.teacher), d.apply(held.student)));
  tf.dispose([held.teacher, held.student]);
  adam.dispose();
  d.dispose();
  return acc;
}

describe('discriminator on teacher vs student features (toy case)', () => {
  it('separates separable features (means 3 apart along two axes): held-out accuracy > 90%', () => {
    expect(trainDiscriminator([1.5, 1.5, 0, 0], [-1.5, -1.5, 0, 0])).toBeGreaterThan(0.9);
  });

  it('stays near chance when teacher and student features have the same distribution', () => {
    const acc = trainDiscriminator([0.5, 0, 0, 0], [0.5, 0, 0, 0]);
    expect(acc).toBeGreaterThan(0.35);
    expect(acc).toBeLessThan(0.65);
  });
});
