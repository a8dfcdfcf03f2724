/**
 * The native Concat, SplitV and Transpose kernels on wasm against the cpu backend: several axes,
 * part counts and dtypes, the block-swap detection of transposes, gradients through a ShuffleNet
 * unit's split-concat-shuffle, and fallbacks (bool, non-swap permutations).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { nativeStatus, Rng, tf } from '../src/index.js';
import { blockSwap } from '../src/kernels/wasm/channel_copies.js';
import { randomValues, setupBackends } from './helpers.js';

beforeAll(setupBackends);

async function onBoth<T>(f: () => T): Promise<[T, T]> {
  await tf.setBackend('wasm');
  const a = f();
  await tf.setBackend('cpu');
  const b = f();
  return [a, b];
}

const values = (shape: number[], seed: number) => Array.from(randomValues(new Rng(seed), shape));

describe('block-swap permutations', () => {
  it('finds [batch, rows, cols] for swaps of two trailing axis blocks, and nothing else', () => {
    expect(blockSwap([2, 3, 4, 2, 5], [0, 1, 2, 4, 3])).toEqual([24, 2, 5]);
    expect(blockSwap([6, 7], [1, 0])).toEqual([1, 6, 7]);
    expect(blockSwap([2, 3, 4, 5], [0, 2, 3, 1])).toEqual([2, 3, 20]);
    expect(blockSwap([2, 3, 4, 5], [0, 3, 1, 2])).toEqual([2, 12, 5]);
    expect(blockSwap([2, 3, 4, 5], [3, 1, 2, 0])).toBeUndefined();
    expect(blockSwap([2, 3, 4, 5], [0, 1, 2, 3])).toBeUndefined();
    expect(blockSwap([2, 3, 4], [0, 2, 1])).toEqual([2, 3, 4]);
  });
});

describe.skipIf(!nativeStatus().loaded)('native block copies on wasm', () => {
  it.each([0, 1, 2, 3])('concat of three parts along axis %i (float32 and int32)', async (axis) => {
    const shapes = [[2, 3, 4, 5], [2, 3, 4, 5], [2, 3, 4, 5]].map((s, i) => s.map((d, j) => (j === axis ? d + i : d)));
    const [got, want] = await onBoth(() => tf.tidy(() => {
      const xs = shapes.map((s, i) => tf.tensor(values(s, i + 10 * axis), s));
      const ints = shapes.map((s, i) => tf.cast(tf.mul(tf.tensor(values(s, i), s), 100), 'int32'));
      return [tf.concat(xs, axis).arraySync(), tf.concat(ints, axis).arraySync()];
    }));
    expect(got).toEqual(want);
  });

  it.each([0, 1, 3])('split into uneven parts along axis %i', async (axis) => {
    const shape = [4, 5, 3, 7];
    const sizes = axis === 3 ? [3, 1, 3] : axis === 1 ? [2, 3] : [1, 1, 2];
    const [got, want] = await onBoth(() => tf.tidy(() => tf.split(tf.tensor(values(shape, axis), shape), sizes, axis).map((t) => t.arraySync())));
    expect(got).toEqual(want);
  });

  it('transposes block swaps natively and other permutations with the stock kernel', async () => {
    const shape = [3, 4, 2, 6];
    const [got, want] = await onBoth(() => tf.tidy(() => [[0, 1, 3, 2], [0, 2, 3, 1], [1, 0, 2, 3], [3, 1, 2, 0]]
      .map((perm) => tf.transpose(tf.tensor(values(shape, 7), shape), perm).arraySync())));
    expect(got).toEqual(want);
  });

  it('leaves bool tensors to the stock kernels', async () => {
    const [got, want] = await onBoth(() => tf.tidy(() => {
      const b = tf.tensor2d([[true, false], [false, true]], [2, 2], 'bool');
      return [tf.concat([b, b], 1).arraySync(), tf.split(b, 2, 1).map((t) => t.arraySync()), tf.transpose(b).arraySync()];
    }));
    expect(got).toEqual(want);
  });

  it('gives the cpu gradients through split, concat and channel shuffle (a ShuffleNet unit), leaking nothing', async () => {
    const shape = [2, 4, 4, 12];
    const unit = (x: tf.Tensor) => {
      const [a, b] = tf.split(x, 2, 3);
      const both = tf.concat([a!, tf.mul(b!, b!)], 3);
      const shuffled = tf.reshape(tf.transpose(tf.reshape(both, [2, 4, 4, 2, 6]), [0, 1, 2, 4, 3]), shape);
      return tf.sum(tf.mul(shuffled, tf.range(0, 2 * 4 * 4 * 12).reshape(shape)));
    };
    const [got, want] = await onBoth(() => {
      const before = tf.memory().numTensors;
      const g = tf.tidy(() => tf.grad(unit)(tf.tensor(values(shape, 3), shape)).arraySync());
      expect(tf.memory().numTensors).toBe(before);
      return g;
    });
    expect(got).toEqual(want);
  });

  it('splits large tensors over threads the same way', async () => {
    const shape = [8, 16, 16, 58];
    const [got, want] = await onBoth(() => tf.tidy(() => {
      const x = tf.tensor(values(shape, 5), shape);
      const [a, b] = tf.split(x, 2, 3);
      const y = tf.transpose(tf.reshape(tf.concat([b!, a!], 3), [8, 16, 16, 2, 29]), [0, 1, 2, 4, 3]);
      return Array.from(y.dataSync());
    }));
    expect(got).toEqual(want);
  });
});
