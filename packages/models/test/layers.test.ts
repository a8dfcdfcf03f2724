import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@kdbench/engine';
import { layers } from '../src/index.js';

const { BatchNorm, Conv2d, Linear, ParamStore, Scope, avgPool3s2p1, channelShuffle } = layers;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);

describe('Conv2d', () => {
  it('uses PyTorch padding/stride arithmetic and counts MACs', () => {
    const store = new ParamStore(1);
    const c = new Conv2d(new Scope(store).child('c'), { inChannels: 4, outChannels: 6, kernelSize: 3, stride: 2, padding: 1 }, { h: 32, w: 32 });
    expect(c.outSize).toEqual({ h: 16, w: 16 });
    expect(c.macs).toBe(16 * 16 * 6 * 4 * 9);
    expect(store.macs).toBe(c.macs);
    expect(store.entries.map((e) => [e.name, e.variable.shape])).toEqual([['c.weight', [3, 3, 4, 6]]]);
    const y = tf.tidy(() => c.apply(tf.ones([2, 32, 32, 4]) as tf.Tensor4D));
    expect(y.shape).toEqual([2, 16, 16, 6]);
    // PyTorch pads symmetrically: output (0,0) sees a zero row and column (4 of 9 taps valid)
    const w = c.weight.arraySync() as number[][][][];
    let corner = 0;
    for (let i = 1; i < 3; i++) for (let j = 1; j < 3; j++) for (let ci = 0; ci < 4; ci++) corner += w[i]![j]![ci]![0]!;
    expect((y.arraySync() as number[][][][])[0]![0]![0]![0]).toBeCloseTo(corner, 4);
    y.dispose();
    store.dispose();
  });

  it('grouped and depthwise convs equal independent per-group convs', () => {
    const store = new ParamStore(2);
    const s = new Scope(store);
    const size = { h: 8, w: 8 };
    const g3 = new Conv2d(s.child('g'), { inChannels: 6, outChannels: 9, kernelSize: 1, groups: 3 }, size);
    const dw = new Conv2d(s.child('d'), { inChannels: 5, outChannels: 5, kernelSize: 3, padding: 1, stride: 2, groups: 5 }, size);
    expect(g3.macs).toBe(64 * 9 * 2);
    expect(dw.macs).toBe(16 * 5 * 9);
    tf.tidy(() => {
      const x6 = tf.randomNormal([2, 8, 8, 6], 0, 1, 'float32', 5) as tf.Tensor4D;
      const ref = tf.concat(
        [0, 1, 2].map((g) =>
          tf.conv2d(tf.slice(x6, [0, 0, 0, 2 * g], [-1, -1, -1, 2]), tf.slice(g3.weight, [0, 0, 0, 3 * g], [-1, -1, -1, 3]) as tf.Tensor4D, 1, 0),
        ),
        3,
      );
      expect(maxDiff(g3.apply(x6), ref)).toBeLessThan(1e-5);
      const x5 = tf.randomNormal([2, 8, 8, 5], 0, 1, 'float32', 6) as tf.Tensor4D;
      const refDw = tf.concat(
        [0, 1, 2, 3, 4].map((c) =>
          tf.conv2d(tf.slice(x5, [0, 0, 0, c], [-1, -1, -1, 1]), tf.slice(dw.weight, [0, 0, 0, c], [-1, -1, -1, 1]) as tf.Tensor4D, 2, 1),
        ),
        3,
      );
      const y = dw.apply(x5);
      expect(y.shape).toEqual([2, 4, 4, 5]);
      expect(maxDiff(y, refDw)).toBeLessThan(1e-5);
    });
    expect(() => new Conv2d(s.child('bad'), { inChannels: 6, outChannels: 8, kernelSize: 1, groups: 3 }, size)).toThrow(/groups=3/);
    store.dispose();
  });

  it('kaiming fan_out init has the PyTorch std; torch_default is bounded by 1/sqrt(fan_in)', () => {
    const store = new ParamStore(3);
    const s = new Scope(store);
    const k = new Conv2d(s.child('k'), { inChannels: 64, outChannels: 64, kernelSize: 3 }, { h: 8, w: 8 });
    const u = new Conv2d(s.child('u'), { inChannels: 64, outChannels: 64, kernelSize: 3, init: 'torch_default', bias: true }, { h: 8, w: 8 });
    const std = Math.sqrt(tf.tidy(() => tf.mean(tf.square(k.weight)).dataSync()[0]!));
    expect(std).toBeCloseTo(Math.sqrt(2 / (9 * 64)), 2);
    const bound = 1 / Math.sqrt(64 * 9);
    expect(tf.tidy(() => tf.max(tf.abs(u.weight)).dataSync()[0]!)).toBeLessThanOrEqual(bound);
    expect(tf.tidy(() => tf.max(tf.abs(u.bias!)).dataSync()[0]!)).toBeLessThanOrEqual(bound);
    store.dispose();
  });
});

describe('BatchNorm', () => {
  it('training: batch statistics (biased var), PyTorch momentum update with unbiased var', () => {
    const store = new ParamStore(0);
    const bn = new BatchNorm(new Scope(store).child('bn'), 2);
    // channel 0 values 1..8, channel 1 constant 3 (N=2, H=2, W=2)
    const vals: number[] = [];
    for (let i = 0; i < 8; i++) vals.push(i + 1, 3);
    const x = tf.tensor4d(vals, [2, 2, 2, 2]);
    const y = tf.tidy(() => bn.apply(x, true));
    const mean = 4.5;
    const biased = 5.25; // mean of (i - 4.5)^2 for i = 1..8
    const yv = y.dataSync();
    expect(yv[0]).toBeCloseTo((1 - mean) / Math.sqrt(biased + 1e-5), 5);
    expect(yv[1]).toBeCloseTo(0, 6);
    expect(Array.from(bn.runningMean.dataSync())).toEqual([expect.closeTo(0.45, 6), expect.closeTo(0.3, 6)]);
    expect(bn.runningVar.dataSync()[0]).toBeCloseTo(0.9 + 0.1 * biased * (8 / 7), 6);
    expect(bn.runningVar.dataSync()[1]).toBeCloseTo(0.9, 6);
    tf.dispose([x, y]);
    store.dispose();
  });

  it('eval uses running statistics and leaves them unchanged', () => {
    const store = new ParamStore(0);
    const bn = new BatchNorm(new Scope(store).child('bn'), 1);
    bn.runningMean.assign(tf.tensor1d([2]));
    bn.runningVar.assign(tf.tensor1d([4]));
    bn.gamma.assign(tf.tensor1d([3]));
    bn.beta.assign(tf.tensor1d([1]));
    const x = tf.tensor4d([0, 2, 6, 10], [1, 2, 2, 1]);
    const y = tf.tidy(() => bn.apply(x, false));
    const expected = [0, 2, 6, 10].map((v) => ((v - 2) / Math.sqrt(4 + 1e-5)) * 3 + 1);
    Array.from(y.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
    expect(bn.runningMean.dataSync()[0]).toBe(2);
    expect(bn.runningVar.dataSync()[0]).toBe(4);
    tf.dispose([x, y]);
    store.dispose();
  });

  it('gradients match the analytic BN backward and running stats update inside tf.grads', () => {
    const store = new ParamStore(0);
    const bn = new BatchNorm(new Scope(store).child('bn'), 3);
    const x = tf.randomNormal([2, 3, 3, 3], 1, 2, 'float32', 9) as tf.Tensor4D;
    const w = tf.randomNormal([2, 3, 3, 3], 0, 1, 'float32', 10);
    const before = tf.memory().numTensors;
    const g = tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(bn.apply(xi as tf.Tensor4D, true), w)))(x);
    expect(tf.memory().numTensors).toBe(before + 1);
    // analytic: dx = (1/sigma) * (dy - mean(dy) - xhat * mean(dy * xhat)), gamma = 1
    const ref = tf.tidy(() => {
      const m = tf.mean(x, [0, 1, 2]);
      const v = tf.mean(tf.square(tf.sub(x, m)), [0, 1, 2]);
      const inv = tf.rsqrt(tf.add(v, 1e-5));
      const xhat = tf.mul(tf.sub(x, m), inv);
      return tf.mul(inv, tf.sub(tf.sub(w, tf.mean(w, [0, 1, 2])), tf.mul(xhat, tf.mean(tf.mul(w, xhat), [0, 1, 2]))));
    });
    expect(maxDiff(g, ref)).toBeLessThan(1e-4);
    expect(tf.tidy(() => tf.max(tf.abs(bn.runningMean)).dataSync()[0]!)).toBeGreaterThan(0);
    tf.dispose([x, w, g, ref]);
    store.dispose();
  });
});

describe('Linear and ops', () => {
  it('Linear computes x W + b with PyTorch default bounds', () => {
    const store = new ParamStore(4);
    const lin = new Linear(new Scope(store).child('fc'), 4, 3);
    expect(lin.macs).toBe(12);
    tf.tidy(() => {
      const x = tf.tensor2d([[1, 0, 0, 0]]);
      expect(maxDiff(lin.apply(x), tf.add(tf.slice(lin.weight, [0, 0], [1, 3]), lin.bias))).toBeLessThan(1e-6);
      expect(tf.max(tf.abs(lin.weight)).dataSync()[0]).toBeLessThanOrEqual(0.5);
    });
    store.dispose();
  });

  it('channelShuffle matches the PyTorch permutation', () => {
    const x = tf.tensor4d([0, 1, 2, 3, 4, 5], [1, 1, 1, 6]);
    const y = tf.tidy(() => channelShuffle(x, 3));
    // groups [0,1] [2,3] [4,5] -> interleaved 0,2,4,1,3,5
    expect(Array.from(y.dataSync())).toEqual([0, 2, 4, 1, 3, 5]);
    tf.dispose([x, y]);
  });

  it('avgPool3s2p1 counts zero padding (PyTorch count_include_pad)', () => {
    const x = tf.ones([1, 4, 4, 1]) as tf.Tensor4D;
    const y = tf.tidy(() => avgPool3s2p1(x));
    expect(y.shape).toEqual([1, 2, 2, 1]);
    expect(y.dataSync()[0]).toBeCloseTo(4 / 9, 6);
    expect(y.dataSync()[3]).toBeCloseTo(1, 6);
    tf.dispose([x, y]);
  });
});
