/** The data-free losses on tiny hand-made inputs; expected values worked out by hand / by a plain loop (comments). */
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@kdbench/engine';
import { fwd, leakOf, value } from '@kdbench/core/testing';
import {
  attentionTerm, beliefDivergence, bnStatisticDistance, competitionTerm, daflLosses, logitMAE, roll2d, totalVariation,
} from '../src/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('DAFL generator losses (Chen et al. 2019)', () => {
  it('one-hot, activation and information-entropy terms', () => {
    const logits = tf.tensor2d([[2, 0], [0, 1]]);
    const features = tf.tensor2d([[1, -2], [3, 0]]);
    const l = daflLosses(logits, features);
    // CE against the argmax: (log(1 + e^-2) + log(1 + e^-1)) / 2 = (0.126928 + 0.313262) / 2
    expect(value(l.onehot)).toBeCloseTo(0.2200948, 5);
    // -mean |f| = -(1 + 2 + 3 + 0) / 4
    expect(value(l.activation)).toBeCloseTo(-1.5, 6);
    // p = mean(softmax rows) = [0.574869, 0.425131]; sum p log10 p (the authors' torch.log10)
    //   = 0.574869 * -0.240431 + 0.425131 * -0.371477 = -0.138216 - 0.157926 = -0.296143
    // (the natural log would give -0.681894, ln 10 times as much)
    expect(value(l.entropy)).toBeCloseTo(-0.2961428, 5);
    // the entropy term is lowest (-log10 2 = -0.30103) for balanced classes
    expect(value(daflLosses(tf.tensor2d([[1, 0], [0, 1]]), features).entropy)).toBeCloseTo(-Math.log10(2), 5);
    expect(leakOf(() => daflLosses(logits, features))).toBe(0);
  });
});

describe('DFAD and ZSKT discrepancies', () => {
  const s = () => tf.tensor2d([[1, 2, 0], [0, 0, 3]]);
  const t = () => tf.tensor2d([[0, 2, 1], [1, 1, 1]]);
  it('DFAD: mean absolute logit difference', () => {
    // |1-0| + 0 + |0-1| + |0-1| + |0-1| + |3-1| = 6 over 6 entries
    expect(value(logitMAE(s(), t()))).toBeCloseTo(1, 6);
  });
  it('ZSKT: KL(teacher || student) at T = 1, mean over batch and classes', () => {
    // loop: sum_rows sum_c pt (ln pt - ln ps) / 2 = 0.5755043; / 3 classes
    expect(value(beliefDivergence(s(), t()))).toBeCloseTo(0.1918348, 5);
    expect(value(beliefDivergence(t(), t()))).toBeCloseTo(0, 6);
  });
  it('ZSKT: attention term over stage ends (the stem is skipped)', () => {
    const stem = tf.zeros([1, 1, 2, 1]) as tf.Tensor4D;
    const fs = tf.tensor4d([1, 2], [1, 1, 2, 1]);
    const ft = tf.tensor4d([2, 2], [1, 1, 2, 1]);
    // a_s = [1, 4] / sqrt(17), a_t = [1, 1] / sqrt(2); mean of squared differences
    expect(value(attentionTerm(fwd([stem, fs]), fwd([stem, ft])))).toBeCloseTo(0.1425071, 5);
  });
});

describe('DeepInversion pieces (Yin et al. 2020)', () => {
  it('roll2d is torch.roll on H and W', () => {
    const x = tf.tensor4d([1, 2, 3, 4, 5, 6], [1, 2, 3, 1]);
    expect(Array.from(roll2d(x, 0, 1).dataSync())).toEqual([3, 1, 2, 6, 4, 5]);
    expect(Array.from(roll2d(x, 1, 0).dataSync())).toEqual([4, 5, 6, 1, 2, 3]);
    expect(Array.from(roll2d(x, -1, -1).dataSync())).toEqual([5, 6, 4, 2, 3, 1]);
  });
  it('total variation: L2 norms of the 4 neighbour differences', () => {
    const x = tf.tensor4d([1, 2, 3, 5], [1, 2, 2, 1]);
    // right [-1, -2] -> sqrt 5; down [-2, -3] -> sqrt 13; 3 - 2 = 1; 1 - 5 = -4 -> 4
    expect(value(totalVariation(x))).toBeCloseTo(Math.sqrt(5) + Math.sqrt(13) + 1 + 4, 5);
  });
  it('batch-norm statistic distance', () => {
    const d = bnStatisticDistance(tf.tensor1d([1, 2]), tf.tensor1d([1, 1]), { mean: tf.tensor1d([0, 0]), variance: tf.tensor1d([2, 3]) });
    // ||[2, 3] - [1, 1]|| + ||[0, 0] - [1, 2]|| = 2 sqrt 5
    expect(value(d)).toBeCloseTo(2 * Math.sqrt(5), 5);
  });
  it("Adaptive DeepInversion's competition term", () => {
    const t = tf.tensor2d([[0, 0, 3], [0, 1, 0]]);
    expect(value(competitionTerm(t, t))).toBeCloseTo(1, 6); // JS = 0
    // loop with clamps to [0.01, 0.99] at T = 3: 1 - JS = 0.9526714
    expect(value(competitionTerm(tf.tensor2d([[3, 0, 0], [0, 1, 0]]), t))).toBeCloseTo(0.9526714, 5);
  });
});
