/** The added wasm UnsortedSegmentSum (Gather's gradient) against the cpu backend. */
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, tf } from '../src/index.js';
import { compare, randomValues, report, setupBackends } from './helpers.js';

beforeAll(setupBackends);

async function onBackend<T>(name: string, fn: () => T): Promise<T> {
  await tf.setBackend(name);
  return fn();
}

describe('UnsortedSegmentSum on wasm', () => {
  it.each([
    { shape: [6, 3], ids: [0, 2, 2, 1, 0, 2], n: 3 },
    { shape: [5], ids: [4, 4, 4, 0, 1], n: 6 },
    { shape: [4, 2, 3], ids: [1, -1, 1, 7], n: 2 },
  ])('sums rows into segments: $shape ids $ids', async (c) => {
    const values = randomValues(new Rng(c.shape.length), c.shape);
    const run = () => tf.tidy(() => tf.unsortedSegmentSum(tf.tensor(values, c.shape), tf.tensor1d(c.ids, 'int32'), c.n).dataSync().slice());
    const got = await onBackend('wasm', run);
    const want = await onBackend('cpu', run);
    const cmp = compare(got as Float32Array, want as Float32Array);
    report(`UnsortedSegmentSum ${c.shape} -> ${c.n}`, cmp);
    expect(cmp.maxAbs).toBeLessThan(1e-6);
  });

  it('makes the gradient of gather (memory-bank lookups) work and match cpu', async () => {
    const bank = randomValues(new Rng(3), [10, 4]);
    const idx = [3, 3, 7, 0, 9];
    const grad = () => tf.tidy(() => {
      const b = tf.tensor2d(bank, [10, 4]);
      const i = tf.tensor1d(idx, 'int32');
      return tf.grad((x: tf.Tensor) => tf.sum(tf.square(tf.gather(x, i))))(b).dataSync().slice();
    });
    const got = await onBackend('wasm', grad);
    const want = await onBackend('cpu', grad);
    expect(compare(got as Float32Array, want as Float32Array).maxAbs).toBeLessThan(1e-6);
    const before = tf.memory().numTensors;
    await onBackend('wasm', grad);
    expect(tf.memory().numTensors).toBe(before);
  });
});
