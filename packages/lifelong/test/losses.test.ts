import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@kdbench/engine';
import { crossEntropy } from '@kdbench/core';
import { leakOf } from '@kdbench/core/testing';
import { icarlLoss, lwfLoss, seenLogits, finetune, joint, lwf, icarl, memoryBudget } from '../src/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const v = (t: tf.Tensor) => t.dataSync()[0]!;

describe('class-incremental losses on hand-made logits', () => {
  it('fine-tuning: cross-entropy over the seen classes only', () => {
    // seen {0,1}, label 1: logsumexp(1, 2) - 2 = log(e + e^2) - 2 = 0.313262
    const s = tf.tensor2d([[1, 2, 0.5, -1]]);
    expect(v(crossEntropy(seenLogits(s, [0, 1], 4), tf.tensor1d([1], 'int32')))).toBeCloseTo(0.313262, 5);
  });

  it('LwF: new-task cross-entropy plus T=2 distillation of each old task', () => {
    // tasks [[0,1],[2,3]], k = 1, label 3
    // ce: over task 2's columns (0.5, -1), label index 1: log(e^0.5 + e^-1) + 1 = 1.701413
    // kd: old task (0,1): s/T = (0.5, 1), p/T = (1, 0); KL(softmax(p/T) || softmax(s/T)) = 0.257403
    const s = tf.tensor2d([[1, 2, 0.5, -1]]);
    const p = tf.tensor2d([[2, 0, 3, 3]]);
    const terms = lwfLoss(s, p, tf.tensor1d([3], 'int32'), [[0, 1], [2, 3]], 1, 2, 1);
    expect(v(terms.ce!)).toBeCloseTo(1.701413, 5);
    expect(v(terms.kd!)).toBeCloseTo(0.257403, 5);
    expect(v(lwfLoss(s, p, tf.tensor1d([3], 'int32'), [[0, 1], [2, 3]], 1, 2, 3).kd!)).toBeCloseTo(3 * 0.257403, 5);
    const first = lwfLoss(s, null, tf.tensor1d([1], 'int32'), [[0, 1], [2, 3]], 0, 2, 1);
    expect(Object.keys(first)).toEqual(['ce']);
    expect(v(first.ce!)).toBeCloseTo(0.313262, 5);
  });

  it('iCaRL (form paper): sigmoid cross-entropy over the seen classes, one-hot targets for new classes, old sigmoid outputs for old ones', () => {
    // classes: old {0}, new {2}, unseen {1}; z = (1, 5, -1), previous z0 = 0 -> q0 = 0.5; label 2
    // class 0: softplus(1) - 0.5 = 0.813262; class 2: softplus(-1) + 1 = 1.313262 (z t = -1); class 1 ignored
    const z = tf.tensor2d([[1, 5, -1]]);
    const prev = tf.tensor2d([[0, 9, 9]]);
    expect(v(icarlLoss(z, prev, tf.tensor1d([2], 'int32'), [2], [0], 'paper'))).toBeCloseTo(2.126523, 5);
    // two rows average over the batch: the second row's (0, 0, 0) logits give 2 * log 2 = 1.386294
    const z2 = tf.tensor2d([[1, 5, -1], [0, 0, 0]]);
    const prev2 = tf.tensor2d([[0, 9, 9], [0, 0, 0]]);
    expect(v(icarlLoss(z2, prev2, tf.tensor1d([2, 2], 'int32'), [2], [0], 'paper'))).toBeCloseTo((2.126523 + 1.386294) / 2, 5);
    expect(() => icarlLoss(z, null, tf.tensor1d([2], 'int32'), [2], [0], 'paper')).toThrow(/previous network/);
  });

  it('iCaRL (form code, the default): the authors\' BCE over all outputs, unseen classes with target 0, mean over batch and outputs', () => {
    // same input; class 1 (unseen) now counts with target 0: softplus(5) = 5.006715
    // mean over the 3 outputs: (0.813262 + 5.006715 + 1.313262) / 3 = 7.133239 / 3 = 2.377746
    const z = tf.tensor2d([[1, 5, -1]]);
    const prev = tf.tensor2d([[0, 9, 9]]);
    expect(v(icarlLoss(z, prev, tf.tensor1d([2], 'int32'), [2], [0]))).toBeCloseTo(2.377746, 5);
    expect(v(icarlLoss(z, prev, tf.tensor1d([2], 'int32'), [2], [0], 'code'))).toBeCloseTo(2.377746, 5);
    // second row: (0, 0, 0) logits, any target: log 2 per output, mean log 2 = 0.693147; batch mean
    const z2 = tf.tensor2d([[1, 5, -1], [0, 0, 0]]);
    const prev2 = tf.tensor2d([[0, 9, 9], [0, 0, 0]]);
    expect(v(icarlLoss(z2, prev2, tf.tensor1d([2, 2], 'int32'), [2], [0]))).toBeCloseTo((2.377746 + 0.693147) / 2, 5);
    // first task (no old classes): plain one-hot BCE over all outputs, label 2:
    // (softplus(1) + softplus(5) + softplus(-1) + 1) / 3 = (1.313262 + 5.006715 + 1.313262) / 3 = 2.544413
    expect(v(icarlLoss(z, null, tf.tensor1d([2], 'int32'), [2], []))).toBeCloseTo(2.544413, 5);
    // an exemplar of old class 0 (label 0): its one-hot column is replaced by q0 = 0.5, class 2 gets target 0:
    // (0.813262 + 5.006715 + softplus(-1) = 0.313262) / 3 = 2.044413
    expect(v(icarlLoss(z, prev, tf.tensor1d([0], 'int32'), [2], [0]))).toBeCloseTo(2.044413, 5);
    expect(() => icarlLoss(z, null, tf.tensor1d([2], 'int32'), [2], [0])).toThrow(/previous network/);
  });

  it('gradients: form paper reaches the student logits only through the seen classes, form code through every output', () => {
    const z = tf.variable(tf.tensor2d([[1, 5, -1]]));
    const prev = tf.tensor2d([[0, 9, 9]]);
    const grad = (form: 'code' | 'paper') => tf.grad((x: tf.Tensor) => icarlLoss(x as tf.Tensor2D, prev, tf.tensor1d([2], 'int32'), [2], [0], form))(z).dataSync();
    const sig = (x: number) => 1 / (1 + Math.exp(-x));
    const gp = grad('paper');
    expect(gp[1]).toBe(0);
    expect(gp[0]).toBeCloseTo(sig(1) - 0.5, 5); // sigmoid(z) - t
    expect(gp[2]).toBeCloseTo(sig(-1) - 1, 5);
    // code: (sigmoid(z) - t) / C: 0.077020, 0.331102, -0.243686
    const gc = grad('code');
    expect(gc[0]).toBeCloseTo(0.077020, 5);
    expect(gc[1]).toBeCloseTo(0.331102, 5);
    expect(gc[2]).toBeCloseTo(-0.243686, 5);
    expect(leakOf(() => icarlLoss(z, prev, tf.tensor1d([2], 'int32'), [2], [0]))).toBe(0);
  });

  it('scales the exemplar memory to the training split and documents every hyperparameter', () => {
    expect(memoryBudget(2000, true, 4000)).toBe(160);
    expect(memoryBudget(2000, true, 50000)).toBe(2000);
    expect(memoryBudget(300, false, 4000)).toBe(300);
    for (const def of [finetune, joint, lwf, icarl]) {
      expect(def.family).toBe('lifelong');
      expect(Object.keys(def.hyperDocs).sort()).toEqual(Object.keys(def.defaults).sort());
    }
    expect(lwf.defaults.T).toBe(2);
    expect(icarl.defaults.memory).toBe(2000);
    expect(icarl.defaults.form).toBe('code');
    expect(icarl.hyperChoices).toEqual({ form: ['code', 'paper'] });
  });
});
