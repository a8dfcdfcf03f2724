import { beforeAll, describe, expect, it } from 'vitest';
import { leakOf, varsOf, disposeInstance } from '@kdbench/core/testing';
import { tf } from '@kdbench/engine';
import { camkd, confidenceWeights, weightedMean } from '../src/camkd.js';
import { realContext, realNetworks, realStep, value } from './helpers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('camkd (Zhang et al. 2022): confidence-aware weights', () => {
  it('weights teachers by 1 - softmax over their per-sample losses, / (K - 1), by hand', () => {
    // sample 0: losses (0, ln 3) -> softmax (1/4, 3/4) -> weights (3/4, 1/4); sample 1: equal losses -> (1/2, 1/2)
    const w = confidenceWeights(tf.tensor2d([[0, 1], [Math.log(3), 1]])).arraySync() as number[][];
    expect(w.map((r) => r.map((x) => +x.toFixed(6)))).toEqual([[0.75, 0.5], [0.25, 0.5]]);
    // three teachers with equal losses: (1 - 1/3) / 2 = 1/3 each
    const w3 = confidenceWeights(tf.tensor2d([[2], [2], [2]])).arraySync() as number[][];
    w3.forEach((r) => expect(r[0]).toBeCloseTo(1 / 3, 6));
    // 1/(B K) sum w * l: (0.75 * 4 + 0.5 * 2 + 0.25 * 8 + 0.5 * 6) / (2 * 2) = 9 / 4
    expect(value(weightedMean(tf.tensor2d([[0.75, 0.5], [0.25, 0.5]]), tf.tensor2d([[4, 2], [8, 6]])))).toBeCloseTo(2.25, 6);
    expect(() => confidenceWeights(tf.tensor2d([[1, 2]]))).toThrow(/at least 2 teachers/);
  });

  it('the KD term weights each teacher\'s per-sample KL, by hand (real networks, logits replaced)', () => {
    const nets = realNetworks(2);
    const inst = camkd.create(realContext(camkd, nets, { T: 1 }));
    const x = tf.randomNormal([1, 32, 32, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
    const kd = tf.tidy(() => {
      const io = realStep(nets, x, [0]);
      const student = { ...io.student, logits: tf.tensor2d([[0, 0, ...Array(8).fill(-100)]]) };
      // teacher 1 logits (ln 3, 0, ...) -> CE(label 0) = -ln(3/4) = 0.287682; teacher 2 (0, 0, ...) -> CE = ln 2
      const t1 = { ...io.teacher!, logits: tf.tensor2d([[Math.log(3), 0, ...Array(8).fill(-100)]]) };
      const t2 = { ...io.teachers![0]!, logits: tf.tensor2d([[0, 0, ...Array(8).fill(-100)]]) };
      // softmax(0.287682, 0.693147) = (0.4, 0.6) -> weights (0.6, 0.4); KL1 = 0.130812, KL2 = 0; / (B K = 2)
      return value(inst.losses({ ...io, student, teacher: t1, teachers: [t2] }).kd!);
    });
    expect(kd).toBeCloseTo(0.6 * 0.130812 / 2, 4);
    disposeInstance(inst);
    x.dispose();
    for (const m of [nets.student, nets.teacher, ...nets.extra]) m.dispose();
  });

  it('on real networks: finite terms, gradients reach the student and every projection, no leak', () => {
    const nets = realNetworks(3);
    const inst = camkd.create(realContext(camkd, nets));
    const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
    const proj = varsOf(inst, 'projections');
    expect(proj.length).toBe(3 * 4); // conv weight, bias, BN gamma, beta per teacher
    tf.tidy(() => {
      const terms = inst.losses(realStep(nets, x, [3, 7]));
      expect(Object.keys(terms)).toEqual(['ce', 'kd', 'inter']);
      for (const v of Object.values(terms)) expect(Number.isFinite(value(v))).toBe(true);
      const vars = [...nets.student.trainableVariables(), ...proj];
      const { grads } = tf.variableGrads(() => tf.addN(Object.values(inst.losses(realStep(nets, x, [3, 7])))) as tf.Scalar, vars);
      const weights = proj.filter((v) => /weight|gamma/.test(v.name)); // a conv bias before BN has no gradient
      for (const v of weights) expect(tf.max(tf.abs(grads[v.name]!)).dataSync()[0], v.name).toBeGreaterThan(0);
    });
    expect(leakOf(() => inst.losses(realStep(nets, x, [3, 7])))).toBe(0);
    disposeInstance(inst);
    x.dispose();
    for (const m of [nets.student, nets.teacher, ...nets.extra]) m.dispose();
  });
});
