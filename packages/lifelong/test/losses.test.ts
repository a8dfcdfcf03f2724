import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@kdbench/engine';
import { crossEntropy } from '@kdbench/core';
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

  it('iCaRL: sigmoid cross-entropy, one-hot targets for new classes, old sigmoid outputs for old ones', () => {
    // classes: old {0}, new {2}, unseen {1}; z = (1, 5, -1), previous z0 = 0 -> q0 = 0.5; label 2
    // class 0: softplus(1) - 0.5 = 0.813262; class 2: softplus(-1) + 1 = 1.313262 (z t = -1); class 1 ignored
    const z = tf.tensor2d([[1, 5, -1]]);
    const prev = tf.tensor2d([[0, 9, 9]]);
    expect(v(icarlLoss(z, prev, tf.tensor1d([2], 'int32'), [2], [0]))).toBeCloseTo(2.126523, 5);
    // two rows average over the batch: the second row's (0, 0, 0) logits give 2 * log 2 = 1.386294
    const z2 = tf.tensor2d([[1, 5, -1], [0, 0, 0]]);
    const prev2 = tf.tensor2d([[0, 9, 9], [0, 0, 0]]);
    expect(v(icarlLoss(z2, prev2, tf.tensor1d([2, 2], 'int32'), [2], [0]))).toBeCloseTo((2.126523 + 1.386294) / 2, 5);
    expect(() => icarlLoss(z, null, tf.tensor1d([2], 'int32'), [2], [0])).toThrow(/previous network/);
  });

  it('gradients reach the student logits only through the seen classes', () => {
    const z = tf.variable(tf.tensor2d([[1, 5, -1]]));
    const g = tf.grad((x: tf.Tensor) => icarlLoss(x as tf.Tensor2D, tf.tensor2d([[0, 9, 9]]), tf.tensor1d([2], 'int32'), [2], [0]))(z);
    const gv = g.dataSync();
    expect(gv[1]).toBe(0);
    expect(gv[0]).toBeCloseTo(1 / (1 + Math.exp(-1)) - 0.5, 5); // sigmoid(z) - t
    expect(gv[2]).toBeCloseTo(1 / (1 + Math.exp(1)) - 1, 5);
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
  });
});
