/** The quantisers on hand-made tensors: values, scales, ternary thresholds, STE gradients. */
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tf } from '@kdbench/engine';
import {
  activationSteps, fakeQuantActivation, fakeQuantWeight, quantizeSymmetric, quantizeWeightValues, symmetricLevels, ternarize,
} from '../src/quantizer.js';

beforeAll(async () => { await initEngine({ backend: 'cpu' }); });

const arr = (t: tf.Tensor) => Array.from(t.dataSync());
const close = (got: number[], want: number[], digits = 5) => {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => expect(g, `element ${i}`).toBeCloseTo(want[i]!, digits));
};

/** A linear weight [in = 3, out = 2]: output channel 0 is column [0.7, -0.33, 0.12], channel 1 [-0.12, 0.21, 0.05]. */
const linearW = () => tf.tensor2d([[0.7, -0.12], [-0.33, 0.21], [0.12, 0.05]]);

describe('symmetric per-channel weight quantiser', () => {
  it('has 2^(b-1) - 1 levels per sign and 2^b - 1 (unsigned) activation steps', () => {
    expect([8, 4, 3].map(symmetricLevels)).toEqual([127, 7, 3]);
    expect(activationSteps(4, false)).toBe(15);
    expect(activationSteps(4, true)).toBe(7);
    expect(activationSteps(2, false)).toBe(3);
  });

  it('quantises a linear weight at 4 bits per output channel (hand-computed)', () => {
    const w = linearW();
    const { q, scale } = quantizeSymmetric(w, 4);
    // channel 0: scale = 0.7 / 7 = 0.1; w / s = [7, -3.3, 1.2] -> [7, -3, 1] -> [0.7, -0.3, 0.1]
    // channel 1: scale = 0.21 / 7 = 0.03; w / s = [-4, 7, 1.667] -> [-4, 7, 2] -> [-0.12, 0.21, 0.06]
    close(arr(scale), [0.1, 0.03]);
    close(arr(q), [0.7, -0.12, -0.3, 0.21, 0.1, 0.06]);
    tf.dispose([w, q, scale]);
  });

  it('quantises at 8 bits with 127 levels (hand-computed)', () => {
    const w = linearW();
    const { q, scale } = quantizeSymmetric(w, 8);
    // channel 0: s = 0.7 / 127 = 0.0055118; -0.33 / s = -59.87 -> -60 -> -0.330709; 0.12 / s = 21.77 -> 22 -> 0.121260
    // channel 1: s = 0.21 / 127 = 0.0016535; -0.12 / s = -72.57 -> -73 -> -0.120709; 0.05 / s = 30.24 -> 30 -> 0.049606
    close(arr(scale), [0.7 / 127, 0.21 / 127], 7);
    close(arr(q), [0.7, -0.120709, -0.330709, 0.21, 0.121260, 0.049606]);
    tf.dispose([w, q, scale]);
  });

  it('takes the output channel from the last axis of an HWIO conv weight', () => {
    // [1, 1, 2 in, 2 out]: out 0 = [1, -0.4], out 1 = [0.1, 0.02]
    const w = tf.tensor4d([1, 0.1, -0.4, 0.02], [1, 1, 2, 2]);
    const { q, scale } = quantizeSymmetric(w, 4);
    // out 0: s = 1/7, -0.4 * 7 = -2.8 -> -3 -> -0.428571; out 1: s = 0.1/7, 0.02 * 70 = 1.4 -> 1 -> 0.0142857
    close(arr(scale), [1 / 7, 0.1 / 7]);
    close(arr(q), [1, 0.1, -0.428571, 0.0142857]);
    tf.dispose([w, q, scale]);
  });

  it('keeps an all-zero channel at zero (scale 1, no division by zero)', () => {
    const w = tf.tensor2d([[0, 0.5], [0, -0.3]]);
    const { q, scale } = quantizeSymmetric(w, 4);
    close(arr(scale), [1, 0.5 / 7]);
    close(arr(q), [0, 0.5, 0, -0.285714]); // -0.3 / (0.5 / 7) = -4.2 -> -4 -> -0.285714
    tf.dispose([w, q, scale]);
  });
});

describe('TWN ternary weights (2 bits)', () => {
  it('thresholds at 0.7 mean|w| and scales by the mean of the kept |w|, per output channel (hand-computed)', () => {
    const w = linearW();
    const { q, threshold, scale } = ternarize(w);
    // channel 0: mean|w| = (0.7 + 0.33 + 0.12) / 3 = 0.383333, D = 0.268333; kept 0.7, 0.33 -> a = 0.515
    // channel 1: mean|w| = (0.12 + 0.21 + 0.05) / 3 = 0.126667, D = 0.088667; kept 0.12, 0.21 -> a = 0.165
    close(arr(threshold), [0.268333, 0.088667]);
    close(arr(scale), [0.515, 0.165]);
    close(arr(q), [0.515, -0.165, -0.515, 0.165, 0, 0]);
    const q2 = quantizeWeightValues(w, 2);
    close(arr(q2), arr(q));
    tf.dispose([w, q, q2, threshold, scale]);
  });
});

describe('straight-through estimator', () => {
  it('fake-quantised weights carry the quantised value and a gradient of exactly 1', () => {
    const w = linearW();
    for (const bits of [8, 4, 2]) {
      const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(fakeQuantWeight(x, bits), tf.tensor2d([[1, 2], [3, 4], [5, 6]]))))(w);
      // d/dw sum(c * q(w)) = c under the STE
      close(arr(g), [1, 2, 3, 4, 5, 6]);
      const v = tf.tidy(() => fakeQuantWeight(w, bits));
      const want = quantizeWeightValues(w, bits);
      close(arr(v), arr(want));
      tf.dispose([g, v, want]);
    }
    expect(fakeQuantWeight(w, 32)).toBe(w); // full precision: the weight itself
    w.dispose();
  });

  it('unsigned activations: clip to [0, a], round on (2^b - 1) steps; gradient 1 inside, 0 outside, PACT gradient to a', () => {
    const x = tf.tensor1d([-0.2, 0.1, 0.4, 0.8, 1.2, 2.0]);
    const a = tf.scalar(1.5);
    // 2 bits: 3 steps of 0.5; y = [0, 0.1, 0.4, 0.8, 1.2, 1.5] -> y / 0.5 = [0, 0.2, 0.8, 1.6, 2.4, 3] -> [0, 0, 1, 2, 2, 3]
    const q = fakeQuantActivation(x, a, 2, false);
    close(arr(q), [0, 0, 0.5, 1, 1, 1.5]);
    const [gx, ga] = tf.grads((xx: tf.Tensor, aa: tf.Tensor) => tf.sum(fakeQuantActivation(xx, aa, 2, false)))([x, a]);
    close(arr(gx!), [0, 1, 1, 1, 1, 0]); // -0.2 below 0 and 2.0 above a are clipped
    close(arr(ga!), [1]); // one element (2.0) above a
    tf.dispose([x, a, q, gx!, ga!]);
  });

  it('signed activations: clip to [-a, a] on 2^(b-1) - 1 steps per sign; PACT gradient +1 above a, -1 below -a', () => {
    const x = tf.tensor1d([-1.5, -0.45, -0.1, 0.2, 0.9, 1.3, 2.0]);
    const a = tf.scalar(1);
    // 3 bits: 3 steps of 1/3 per sign; y = [-1, -0.45, -0.1, 0.2, 0.9, 1, 1] -> 3y = [-3, -1.35, -0.3, 0.6, 2.7, 3, 3]
    //   -> [-3, -1, 0, 1, 3, 3, 3] / 3
    const q = fakeQuantActivation(x, a, 3, true);
    close(arr(q), [-1, -1 / 3, 0, 1 / 3, 1, 1, 1]);
    const [gx, ga] = tf.grads((xx: tf.Tensor, aa: tf.Tensor) => tf.sum(fakeQuantActivation(xx, aa, 3, true)))([x, a]);
    close(arr(gx!), [0, 1, 1, 1, 1, 0, 0]);
    close(arr(ga!), [2 - 1]); // 1.3 and 2.0 above a, -1.5 below -a
    tf.dispose([x, a, q, gx!, ga!]);
  });

  it('8-bit unsigned activations sit on a grid of a / 255', () => {
    const x = tf.tensor1d([0.3, 1.1]);
    const a = tf.scalar(2);
    // 0.3 * 255 / 2 = 38.25 -> 38 -> 0.298039; 1.1 * 255 / 2 = 140.25 -> 140 -> 1.098039
    close(arr(fakeQuantActivation(x, a, 8, false)), [38 * 2 / 255, 140 * 2 / 255]);
    tf.dispose([x, a]);
  });

  it('refuses bit widths it cannot represent', () => {
    const x = tf.tensor1d([1]);
    const a = tf.scalar(1);
    expect(() => fakeQuantActivation(x, a, 1, false)).toThrow(/bit width/);
    expect(() => fakeQuantActivation(x, a, 2.5, false)).toThrow(/bit width/);
    expect(() => quantizeSymmetric(tf.tensor2d([[1]]), 2)).toThrow(/ternary/);
    expect(() => quantizeSymmetric(tf.tensor1d([1]), 4)).toThrow(/rank/);
    tf.dispose([x, a]);
  });

  it('leaks no tensors', () => {
    const w = linearW();
    const x = tf.tensor1d([-0.2, 0.4, 2]);
    const a = tf.variable(tf.scalar(1));
    const run = () => tf.tidy(() => {
      const { grads } = tf.variableGrads(() => tf.add(tf.sum(fakeQuantActivation(x, a, 4, true)), tf.sum(fakeQuantWeight(w, 2))) as tf.Scalar, [a]);
      tf.dispose(Object.values(grads));
    });
    run();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) run();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([w, x, a]);
  });
});
