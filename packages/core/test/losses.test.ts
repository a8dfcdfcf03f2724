import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@kdbench/engine';
import { crossEntropy, softTargetKL, topKCorrect } from '../src/losses/kl.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('softTargetKL', () => {
  it('equals the hand-computed T^2 * KL for a 3-class example', () => {
    // t/T = [1, 0, 0.5] and s/T = [0.5, 1, 0] are permutations of each other, so the log ratios
    // are 0.5, -1, 0.5 exactly: KL = 0.50648*0.5 - 0.18632*1 + 0.30720*0.5 = 0.220514; x T^2 = 0.882056.
    const s = tf.tensor2d([[1, 2, 0]]);
    const t = tf.tensor2d([[2, 0, 1]]);
    const v = softTargetKL(s, t, 2).dataSync()[0]!;
    expect(v).toBeCloseTo(0.882056, 5);
    tf.dispose([s, t]);
  });

  it('averages over the batch and is zero when student equals teacher', () => {
    const s = tf.tensor2d([[1, 2, 0], [3, -1, 0.5]]);
    const same = softTargetKL(s, s, 4).dataSync()[0]!;
    expect(Math.abs(same)).toBeLessThan(1e-6);
    const t = tf.tensor2d([[2, 0, 1], [3, -1, 0.5]]);
    // row 1 as above with T=2, row 2 identical: mean = 0.882056 / 2
    expect(softTargetKL(s, t, 2).dataSync()[0]!).toBeCloseTo(0.441028, 5);
    tf.dispose([s, t]);
  });

  it('rejects a non-positive temperature', () => {
    const s = tf.tensor2d([[1, 2]]);
    expect(() => softTargetKL(s, s, 0)).toThrow(/temperature/);
    s.dispose();
  });

  it('sends gradient only into the differentiated argument: d/ds at T=1 is (p_s - p_t)/B', () => {
    const s = tf.tensor2d([[1, 2, 0]]);
    const t = tf.tensor2d([[2, 0, 1]]);
    const g = tf.grad((x: tf.Tensor) => softTargetKL(x as tf.Tensor2D, t, 1))(s).arraySync() as number[][];
    const ps = softmax([1, 2, 0]);
    const pt = softmax([2, 0, 1]);
    g[0]!.forEach((v, i) => expect(v).toBeCloseTo(ps[i]! - pt[i]!, 5));
    tf.dispose([s, t]);
  });
});

describe('crossEntropy and top-k', () => {
  it('matches -log softmax at the label', () => {
    const logits = tf.tensor2d([[1, 2, 0], [0, 0, 0]]);
    const labels = tf.tensor1d([1, 2], 'int32');
    const expected = (-Math.log(softmax([1, 2, 0])[1]!) + Math.log(3)) / 2;
    expect(crossEntropy(logits, labels).dataSync()[0]!).toBeCloseTo(expected, 5);
    tf.dispose([logits, labels]);
  });

  it('counts top-1 and top-5 hits', () => {
    const logits = tf.tensor2d([[0.1, 0.9, 0, 0, 0, 0, 0.2], [0.9, 0.1, 0.8, 0.7, 0.6, 0.5, 0.4]]);
    const labels = tf.tensor1d([1, 6], 'int32');
    expect(topKCorrect(logits, labels, 1)).toBe(1);
    expect(topKCorrect(logits, labels, 5)).toBe(1);
    expect(topKCorrect(logits, labels, 7)).toBe(2);
    tf.dispose([logits, labels]);
  });
});

function softmax(v: number[]): number[] {
  const m = Math.max(...v);
  const e = v.map((x) => Math.exp(x - m));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / z);
}
