import { beforeAll, describe, expect, it } from 'vitest';
import { leakOf, metricsOf } from '@kdbench/core/testing';
import { tf } from '@kdbench/engine';
import { avgkd } from '../src/avgkd.js';
import { out, step, stub, stubContext, value } from './helpers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('avgkd (averaged soft targets, Hinton et al. 2015)', () => {
  const ctx = () => stubContext(avgkd, { T: 1 }, stub('resnet20', 0), [stub('resnet20', 1)]);

  it('CE plus KL to the mean of the teachers\' distributions, by hand', () => {
    const inst = avgkd.create(ctx());
    // student (0, 0), label 1: CE = ln 2 = 0.693147; teachers (0, 0) and (ln 3, 0): KL = 0.031584 (shared.test.ts)
    const terms = inst.losses(step(out([[0, 0]]), out([[0, 0]]), [out([[Math.log(3), 0]])], [1]));
    expect(Object.keys(terms)).toEqual(['ce', 'kd']);
    expect(value(terms.ce!)).toBeCloseTo(0.1 * 0.693147, 6);
    expect(value(terms.kd!)).toBeCloseTo(0.9 * 0.0315839, 6);
  });

  it('gradients reach the student logits; no tensor leak; metadata', () => {
    const inst = avgkd.create(ctx());
    const s = tf.variable(tf.tensor2d([[0.3, -1, 2], [1, 0, 0]]));
    const io = () => step({ logits: s as tf.Tensor2D, features: [], embedding: s as tf.Tensor2D }, out([[1, 2, 3], [0, 0, 1]]), [out([[3, 2, 1], [1, 0, 0]])], [0, 2]);
    const g = tf.grad((v: tf.Tensor) => tf.addN(Object.values(inst.losses({ ...io(), student: { logits: v as tf.Tensor2D, features: [], embedding: v as tf.Tensor2D } }))))(s);
    expect(tf.max(tf.abs(g)).dataSync()[0]).toBeGreaterThan(0);
    expect(leakOf(() => inst.losses(io()))).toBe(0);
    expect(avgkd.teacherOutputs).toBe('logits');
    expect(avgkd.family).toBe('multi-teacher');
    expect(Object.keys(avgkd.hyperDocs).sort()).toEqual(Object.keys(avgkd.defaults).sort());
    const acc = metricsOf(inst, (m) => ({ top1: m.id.startsWith('ensemble') ? 83 : 80 + m.options.seed, top5: 0 }));
    expect(acc).toEqual({ 'teacher:resnet20:s0': 80, 'teacher:resnet20:s1': 81, ensemble: 83 });
  });
});
