/**
 * Sum on wasm (native column sums for leading-axes reductions, stock otherwise) against cpu; an
 * empty input sums to zeros (the stock tfjs 4.22 kernel returns uninitialised memory).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nativeStatus, Rng, setNativeEnabled, tf } from '../src/index.js';
import { compare, randomValues, runKernelOn, setupBackends } from './helpers.js';

beforeAll(setupBackends);
afterAll(() => setNativeEnabled(true));

const CASES = [
  { shape: [4, 5, 6, 7], axis: [0, 1, 2], keepDims: false },
  { shape: [4, 5, 6, 7], axis: [2, 0, 1], keepDims: true },
  { shape: [64, 10], axis: 0, keepDims: false },
  { shape: [3, 4, 5], axis: [-3, -2], keepDims: false },
  { shape: [3, 4, 5], axis: [1, 2], keepDims: false },
  { shape: [3, 4, 5], axis: [0, 1, 2], keepDims: false },
];

describe.each([{ on: true }, { on: false }])('Sum on wasm, native $on', ({ on }) => {
  beforeAll(() => setNativeEnabled(on));
  it.skipIf(on && !nativeStatus().loaded).each(CASES.map((c) => ({ ...c, name: `${c.shape.join('x')} axis ${c.axis} keepDims ${c.keepDims}` })))('$name', async (c) => {
    const x = { shape: c.shape, values: randomValues(new Rng(c.shape.length), c.shape) };
    const attrs = { axis: c.axis, keepDims: c.keepDims };
    const got = await runKernelOn('wasm', 'Sum', { x }, attrs);
    const want = await runKernelOn('cpu', 'Sum', { x }, attrs);
    expect(got.shape).toEqual(want.shape);
    expect(compare(got.values, want.values).rel).toBeLessThan(1e-5);
  });

  it('int32 sums and an empty tensor', async () => {
    await tf.setBackend('wasm');
    const i = tf.sum(tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2], 'int32'), 0);
    expect(i.dtype).toBe('int32');
    expect(Array.from(i.dataSync())).toEqual([9, 12]);
    const e = tf.sum(tf.zeros([0, 3]), 0);
    expect(Array.from(e.dataSync())).toEqual([0, 0, 0]);
    tf.dispose([i, e]);
  });
});
