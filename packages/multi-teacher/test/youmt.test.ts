import { beforeAll, describe, expect, it } from 'vitest';
import { leakOf } from '@kdbench/core/testing';
import { tf } from '@kdbench/engine';
import { votedTripletLoss, youmt } from '../src/youmt.js';
import { realContext, realNetworks, realStep, value } from './helpers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Symmetric distance matrix of three points from d01, d02, d12. */
const d3 = (d01: number, d02: number, d12: number) => tf.tensor2d([[0, d01, d02], [d01, 0, d12], [d02, d12, 0]]);

describe('youmt (You et al. 2017): voted relative dissimilarity', () => {
  it('the triplet hinge follows the teachers\' majority, by hand', () => {
    const student = d3(2, 1, 1);
    const t1 = d3(1, 2, 3); // anchor 0: 1 is closer; anchor 1: 0 closer; anchor 2: 0 closer
    const t2 = d3(3, 1, 2); // anchor 0: 2 closer; anchor 1: 2 closer; anchor 2: 0 closer
    // one teacher (t1), margin 0.5: anchor 0: d_s(0,1) - d_s(0,2) + 0.5 = 2 - 1 + 0.5 = 1.5;
    // anchor 1: d_s(1,0) - d_s(1,2) + 0.5 = 1.5; anchor 2: d_s(2,0) - d_s(2,1) + 0.5 = 0.5; mean 3.5 / 3
    expect(value(votedTripletLoss(student, [t1], 0.5))).toBeCloseTo(3.5 / 3, 6);
    // t1 and t2 tie on anchors 0 and 1 (skipped); both say 0 is closer to 2: 0.5
    expect(value(votedTripletLoss(student, [t1, t2], 0.5))).toBeCloseTo(0.5, 6);
    // t1, t2, t1: t1's order wins everywhere
    expect(value(votedTripletLoss(student, [t1, t2, t1], 0.5))).toBeCloseTo(3.5 / 3, 6);
    // a satisfied order gives 0: student distances ordered like t1 with gaps above the margin
    expect(value(votedTripletLoss(d3(1, 2, 3), [t1], 0.5))).toBeCloseTo(0, 6);
    // fewer than three rows: no triplet
    expect(value(votedTripletLoss(tf.tensor2d([[0, 1], [1, 0]]), [tf.tensor2d([[0, 1], [1, 0]])], 0.5))).toBe(0);
  });

  it('on real networks: finite terms, gradients reach the student, no leak', () => {
    const nets = realNetworks(3);
    const inst = youmt.create(realContext(youmt, nets));
    const x = tf.randomNormal([4, 32, 32, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
    const terms = tf.tidy(() => Object.fromEntries(Object.entries(inst.losses(realStep(nets, x, [0, 1, 2, 3]))).map(([k, v]) => [k, value(v)])));
    expect(Object.keys(terms)).toEqual(['ce', 'kd', 'dissimilarity']);
    for (const v of Object.values(terms)) expect(Number.isFinite(v)).toBe(true);
    tf.tidy(() => {
      const vars = nets.student.trainableVariables();
      const { grads } = tf.variableGrads(() => inst.losses(realStep(nets, x, [0, 1, 2, 3])).dissimilarity!, vars);
      expect(vars.some((v) => tf.max(tf.abs(grads[v.name]!)).dataSync()[0]! > 0)).toBe(true);
    });
    expect(leakOf(() => inst.losses(realStep(nets, x, [0, 1, 2, 3])))).toBe(0);
    expect(() => youmt.create(realContext(youmt, nets, { layer: 1.5 }))).toThrow(/layer must be a feature index/);
    x.dispose();
    for (const m of [nets.student, nets.teacher, ...nets.extra]) m.dispose();
  });
});
