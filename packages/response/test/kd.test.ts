import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, tf } from '@kdbench/engine';
import type { ForwardResult, Model } from '@kdbench/models';
import { kd } from '../src/kd.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const out = (logits: tf.Tensor2D) => ({ logits, features: [], embedding: logits }) as unknown as ForwardResult;

describe('kd (Hinton 2015)', () => {
  it('returns gamma*CE and alpha*T^2*KL with the hand-computed values', () => {
    const inst = kd.create({
      hp: { T: 2, gamma: 0.1, alpha: 0.9 }, dataset: 'cifar10', numClasses: 3, student: {} as Model, teacher: {} as Model, studentShapes: [], teacherShapes: [],
      trainSize: 1, trainIds: new Int32Array(1), trainLabels: new Int32Array(1), epochs: 1, batchSize: 1, rng: new Rng(0),
      teachers: [], createNetwork: () => { throw new Error('unused'); }, probe: () => { throw new Error('unused'); },
    });
    const s = tf.tensor2d([[1, 2, 0]]);
    const t = tf.tensor2d([[2, 0, 1]]);
    const y = tf.tensor1d([1], 'int32');
    const terms = inst.losses({ x: s as never, labels: y, ids: new Int32Array([0]), student: out(s), teacher: out(t), epoch: 0, progress: 0, step: 0, stage: 'main' });
    // CE = -log(e^2 / (e^1 + e^2 + e^0)) = 0.407606; KL*T^2 = 0.882056 (see core losses test)
    expect(terms.ce!.dataSync()[0]).toBeCloseTo(0.1 * 0.407606, 5);
    expect(terms.kd!.dataSync()[0]).toBeCloseTo(0.9 * 0.882056, 5);
    tf.dispose([s, t, y, terms.ce!, terms.kd!]);
  });

  it('has the CRD defaults and cites its paper', () => {
    expect(kd.defaults).toEqual({ T: 4, gamma: 0.1, alpha: 0.9 });
    expect(kd.paper?.url).toContain('1503.02531');
    expect(kd.teacher).toBe('required');
  });
});
