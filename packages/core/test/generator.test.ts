/** The shared generator: layout, upsampling, batch-statistic normalisation, seeding, clear errors. */
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, tf } from '@kdbench/engine';
import { leakOf } from '../src/testing/method-kit.js';
import { batchStatNorm, Generator, upsample2 } from '../src/modules/generator.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('generator (DAFL / DFAD / ZSKT layout)', () => {
  it('nearest-neighbour x2 upsampling', () => {
    const x = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
    expect(Array.from(upsample2(x).dataSync())).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
  });

  it('batch-statistic normalisation: zero mean, unit (biased) variance per channel', () => {
    const x = tf.tensor4d([1, 10, 3, 30], [2, 1, 1, 2]);
    // channel 0: [1, 3] -> mean 2, var 1 -> [-1, 1] / sqrt(1 + eps)
    expect(Array.from(batchStatNorm(x, 0).dataSync())).toEqual([-1, -1, 1, 1]);
    // eps 1: channel 0 -> [-1, 1] / sqrt(2); channel 1: [10, 30], mean 20, var 100 -> [-10, 10] / sqrt(101)
    const got = Array.from(batchStatNorm(x, 1).dataSync());
    [-1 / Math.SQRT2, -10 / Math.sqrt(101), 1 / Math.SQRT2, 10 / Math.sqrt(101)].forEach((v, i) => expect(got[i]).toBeCloseTo(v, 5));
  });

  it('makes 32x32x3 images, the same for the same seed and codes, with gradients to every weight', () => {
    const g = new Generator(3, { latent: 8, width: 4 });
    const h = new Generator(3, { latent: 8, width: 4 });
    const a = g.sample(new Rng(1), 3);
    const b = h.sample(new Rng(1), 3);
    expect(a.shape).toEqual([3, 32, 32, 3]);
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    const vars = g.trainableVariables();
    expect(vars.length).toBe(14); // linear (2), 3 convs (6), 3 affine batch norms (6)
    // a weighted sum (the last, affine-free batch norm makes plain sums of the output constant)
    const w = tf.reshape(tf.linspace(0, 1, 3 * 32 * 32 * 3), [3, 32, 32, 3]);
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(g.apply(g.codes(new Rng(2), 3)), w)) as tf.Scalar, vars);
    for (const v of vars) expect(tf.max(tf.abs(grads[v.name]!)).dataSync()[0]!, v.name).toBeGreaterThan(0);
    tf.dispose([a, b, w, value, ...Object.values(grads)]);
    expect(leakOf(() => g.sample(new Rng(4), 2))).toBe(0);
    g.dispose();
    h.dispose();
  });

  it('refuses bad options and a batch of one', () => {
    expect(() => new Generator(0, { latent: 0, width: 4 })).toThrow(/latent size/);
    const g = new Generator(0, { latent: 4, width: 2 });
    expect(() => g.apply(tf.zeros([1, 4]) as tf.Tensor2D)).toThrow(/at least 2/);
    expect(() => g.apply(tf.zeros([2, 5]) as tf.Tensor2D)).toThrow(/5 dims, expected 4/);
    g.dispose();
  });
});
