import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, tf } from '@kdbench/engine';
import { knnIndices, knnMask, knnMeanMatrix, maskedLogSoftmax, pairwiseL1, softmaxCosineDistance } from '../src/losses/graphs.js';
import { Dense, MeanGraphConv } from '../src/modules/graph-layers.js';
import { leakOf } from '../src/testing/method-kit.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const rows = (t: tf.Tensor) => t.arraySync() as number[][];

describe('instance graphs over a batch', () => {
  // logits (2,0,0), (1.5,0.2,0), (0,0,2): softmax rows p0 = (0.786986, 0.106507, 0.106507),
  // p1 = (0.715727, 0.195405, 0.088868), p2 = (0.106507, 0.106507, 0.786986);
  // 1 - cos: d01 = 0.011469, d02 = 0.721226, d12 = 0.633754 (numpy)
  const logits = () => tf.tensor2d([[2, 0, 0], [1.5, 0.2, 0], [0, 0, 2]]);

  it('softmaxCosineDistance: 1 - cos of the softmax rows, by hand', () => {
    const d = rows(softmaxCosineDistance(logits()));
    expect(d[0]![1]).toBeCloseTo(0.011469, 5);
    expect(d[0]![2]).toBeCloseTo(0.721226, 5);
    expect(d[1]![2]).toBeCloseTo(0.633754, 5);
    expect(d[2]![0]).toBeCloseTo(0.721226, 5);
    expect(d[1]![1]).toBeCloseTo(0, 6);
  });

  it('knnIndices with self (HKD): each row itself first, then its nearest; without self the nearest others', () => {
    const d = softmaxCosineDistance(logits());
    expect([...knnIndices(d, 2, { includeSelf: true })]).toEqual([0, 1, 1, 0, 2, 1]);
    expect([...knnIndices(d, 1, { includeSelf: false })]).toEqual([1, 0, 1]);
    expect([...knnIndices(d, 2, { includeSelf: false })]).toEqual([1, 2, 0, 2, 1, 0]);
  });

  it('knnIndices breaks ties by the lower index', () => {
    const d = tf.tensor2d([[0, 1, 1, 1], [1, 0, 1, 1], [1, 1, 0, 1], [1, 1, 1, 0]]);
    expect([...knnIndices(d, 2, { includeSelf: false })]).toEqual([1, 2, 0, 2, 0, 1, 0, 1]);
  });

  it('knnIndices refuses k out of range and a non-square matrix, naming the bound', () => {
    const d = tf.zeros([3, 3]) as tf.Tensor2D;
    expect(() => knnIndices(d, 3, { includeSelf: false })).toThrow(/k must be an integer in \[1, 2\] for 3 rows \(self excluded\), got 3/);
    expect(() => knnIndices(d, 0, { includeSelf: true })).toThrow(/\[1, 3\]/);
    expect(() => knnIndices(tf.zeros([2, 3]) as tf.Tensor2D, 1, { includeSelf: true })).toThrow(/square/);
  });

  it('knnMask and knnMeanMatrix: the neighbours as 0/1 rows and as their mean', () => {
    const idx = Int32Array.from([0, 1, 1, 0, 2, 1]);
    expect(rows(knnMask(idx, 3))).toEqual([[1, 1, 0], [1, 1, 0], [0, 1, 1]]);
    // e = (1,0), (0,1), (0.6,0.8): the means are (0.5,0.5), (0.5,0.5), (0.3,0.9)
    const mean = rows(tf.matMul(knnMeanMatrix(idx, 3), tf.tensor2d([[1, 0], [0, 1], [0.6, 0.8]])));
    [[0.5, 0.5], [0.5, 0.5], [0.3, 0.9]].forEach((r, i) => r.forEach((v, j) => expect(mean[i]![j]).toBeCloseTo(v, 6)));
  });

  it('pairwiseL1: |a - b|_1 of every pair, with gradient sign(a - b)', () => {
    const e = tf.tensor2d([[0, 0], [1, 0], [0, 2]]);
    expect(rows(pairwiseL1(e))).toEqual([[0, 1, 2], [1, 0, 3], [2, 3, 0]]);
    // d/de of sum_ij |e_i - e_j|_1: row 1 = 2 * (sign(1-0) + sign(1-0), sign(0-0) + sign(0-2)) = (4, -2)
    const g = rows(tf.grad((x: tf.Tensor) => tf.sum(pairwiseL1(x as tf.Tensor2D)))(e));
    expect(g[1]).toEqual([4, -2]);
  });

  it('maskedLogSoftmax: a softmax over the masked entries only', () => {
    // row [1, 2, 3] over {0, 2}: log(e / (e + e^3)) = -2.126928, log(e^3 / (e + e^3)) = -0.126928
    const l = rows(maskedLogSoftmax(tf.tensor2d([[1, 2, 3]]), tf.tensor2d([[1, 0, 1]])));
    expect(l[0]![0]).toBeCloseTo(-2.126928, 5);
    expect(l[0]![2]).toBeCloseTo(-0.126928, 5);
    expect(Math.exp(l[0]![1]!)).toBe(0);
  });

  it('leaks nothing', () => {
    const lg = logits();
    expect(leakOf(() => {
      const d = softmaxCosineDistance(lg);
      knnMeanMatrix(knnIndices(d, 2, { includeSelf: true }), 3);
      maskedLogSoftmax(pairwiseL1(lg), knnMask(knnIndices(d, 1, { includeSelf: false }), 3));
    })).toBe(0);
    lg.dispose();
  });
});

describe('graph layers', () => {
  it('Dense initialisers: truncated normal by fan-out within 2 std, Xavier normal, PyTorch default bound', () => {
    const tn = new Dense(16, 200, 1, { init: { kind: 'truncated_normal_fan_out', factor: 2 }, bias: 'none' });
    const std = Math.sqrt((1.3 * 2) / 200); // TF contrib variance scaling: sqrt(1.3 factor / n)
    const w = tn.weight.dataSync();
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(2 * std + 1e-7);
    expect(tn.bias).toBeNull();
    const xn = new Dense(100, 100, 2, { init: { kind: 'xavier_normal', gain: Math.SQRT2 }, bias: 'zero' });
    const xs = Array.from(xn.weight.dataSync());
    const sd = Math.sqrt(xs.reduce((a, v) => a + v * v, 0) / xs.length);
    expect(sd).toBeGreaterThan(0.95 * Math.SQRT2 * Math.sqrt(2 / 200)); // 10^4 draws: within 5%
    expect(sd).toBeLessThan(1.05 * Math.SQRT2 * Math.sqrt(2 / 200));
    expect([...xn.bias!.dataSync()].every((v) => v === 0)).toBe(true);
    const td = new Dense(4, 3, 3, { init: { kind: 'torch_default' }, bias: 'torch_default' });
    expect(Math.max(...td.bias!.dataSync().map(Math.abs))).toBeLessThanOrEqual(0.5);
    [tn, xn, td].forEach((d) => d.dispose());
  });

  it('Dense with batch norm: columns normalised over the batch in training, the frozen copy uses running statistics', () => {
    const d = new Dense(1, 1, 0, { init: { kind: 'torch_default' }, bias: 'none', bn: true, relu: true });
    d.weight.assign(tf.tensor2d([[2]]));
    // x = (1, 3) -> xW = (2, 6): mean 4, biased var 4, y = (-1, 1) / sqrt(1 + 1e-5/4), ReLU -> (0, 0.999999)
    const y = d.apply(tf.tensor2d([[1], [3]]), true).dataSync();
    expect(y[0]).toBe(0);
    expect(y[1]).toBeCloseTo(1, 5);
    // running stats after one update (momentum 0.1): mean 0.4, var 0.9 + 0.1 * 8 (unbiased) = 1.7
    const frozen = d.frozen();
    d.weight.assign(tf.tensor2d([[5]])); // the copy keeps the old values
    // frozen(x = 1): (2 - 0.4) / sqrt(1.7 + 1e-5) = 1.6 / 1.303844 = 1.227140
    expect(frozen.apply(tf.tensor2d([[1]])).dataSync()[0]).toBeCloseTo(1.227140, 5);
    const x = tf.variable(tf.tensor2d([[1]]));
    const { grads } = tf.variableGrads(() => tf.sum(frozen.apply(x as unknown as tf.Tensor2D)) as tf.Scalar, [x, d.weight]);
    expect(grads[d.weight.name]).toBeUndefined();
    expect(grads[x.name]!.dataSync()[0]).toBeCloseTo(2 / Math.sqrt(1.7 + 1e-5), 5);
    frozen.dispose();
    d.dispose();
  });

  it('MeanGraphConv: W [x ; A x] + b on a 3-vertex graph, by hand', () => {
    const conv = new MeanGraphConv(2, 2, 0);
    // W (in x out) maps [x1, x2, m1, m2] to (x1, m1 + m2), b = 0
    conv.linear.weight.assign(tf.tensor2d([[1, 0], [0, 0], [0, 1], [0, 1]]));
    conv.linear.bias!.assign(tf.zeros([2]));
    const a = knnMeanMatrix(Int32Array.from([0, 1, 1, 0, 2, 1]), 3);
    const g = rows(conv.apply(tf.tensor2d([[1, 0], [0, 1], [0.6, 0.8]]), a));
    // vertex 2: x = (0.6, 0.8), mean (0.3, 0.9) -> (0.6, 1.2)
    [[1, 1], [0, 1], [0.6, 1.2]].forEach((r, i) => r.forEach((v, j) => expect(g[i]![j]).toBeCloseTo(v, 6)));
    expect(conv.trainableVariables()).toHaveLength(2);
    conv.dispose();
  });

  it('Dense: seeded (same seed, same weights) and leak-free', () => {
    const a = new Dense(3, 4, 9, { init: { kind: 'truncated_normal_fan_out', factor: 2 }, bias: 'none', bn: true });
    const b = new Dense(3, 4, 9, { init: { kind: 'truncated_normal_fan_out', factor: 2 }, bias: 'none', bn: true });
    expect([...a.weight.dataSync()]).toEqual([...b.weight.dataSync()]);
    const x = tf.tensor2d(Array.from({ length: 6 }, () => new Rng(1).normal()), [2, 3]);
    expect(leakOf(() => a.apply(x, true))).toBe(0);
    [a, b].forEach((d) => d.dispose());
    x.dispose();
  });
});
