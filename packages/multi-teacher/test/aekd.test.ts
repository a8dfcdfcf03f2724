import { beforeAll, describe, expect, it } from 'vitest';
import { softTargetKL } from '@kdbench/core';
import { leakOf } from '@kdbench/core/testing';
import { tf } from '@kdbench/engine';
import { aekd, logitGradients } from '../src/aekd.js';
import { out, step, stub, stubContext, value } from './helpers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('aekd (Du et al. 2020): adaptive weights in gradient space', () => {
  it('logitGradients equal autodiff gradients of the batch-mean KD loss, averaged over rows', () => {
    const s = tf.tensor2d([[0.5, -1, 2], [1, 0, 0.3]]);
    const ts = [tf.tensor2d([[1, 2, 3], [0, 0, 1]]), tf.tensor2d([[-1, 0, 2], [2, 1, 0]])];
    const mine = logitGradients(s, ts, 4);
    ts.forEach((t, m) => {
      const g = tf.mean(tf.grad((v: tf.Tensor) => softTargetKL(v as tf.Tensor2D, t, 4))(s), 0).arraySync() as number[];
      g.forEach((x, c) => expect(mine[m]![c]).toBeCloseTo(x, 6));
    });
  });

  it('a teacher the student already matches gets the largest weight the tolerance allows, by hand', () => {
    const inst = aekd.create(stubContext(aekd, { T: 1 }, stub('resnet20', 0), [stub('resnet20', 1)]));
    // student (0, 0); teacher 1 (ln 3, 0) has gradient (1/2 - 3/4, 1/2 - 1/4) != 0; teacher 2 (0, 0) has gradient 0.
    // min |w1 g1| with w1 >= 1 - C = 0.4 -> w = (0.4, 0.6); KL1 = 3/4 ln(3/2) + 1/4 ln(1/2) = 0.130812, KL2 = 0
    const terms = inst.losses(step(out([[0, 0]]), out([[Math.log(3), 0]]), [out([[0, 0]])], [0]));
    expect(value(terms.kd!)).toBeCloseTo(0.9 * 0.4 * 0.130812, 6);
    // CE = ln 2, gamma = 1
    expect(value(terms.ce!)).toBeCloseTo(0.693147, 6);
    // opposite gradients of equal size: the min-norm point is (1/2, 1/2) with norm 0
    const sym = inst.losses(step(out([[0, 0]]), out([[1, 0]]), [out([[0, 1]])], [0]));
    const kl = value(softTargetKL(tf.tensor2d([[0, 0]]), tf.tensor2d([[1, 0]]), 1));
    expect(value(sym.kd!)).toBeCloseTo(0.9 * kl, 6);
  });

  it('no tensor leak; C out of range is a ConfigError', () => {
    const inst = aekd.create(stubContext(aekd, {}, stub('resnet20', 0), [stub('resnet20', 1), stub('resnet20', 2)]));
    expect(leakOf(() => inst.losses(step(out([[0, 1, 0]]), out([[1, 2, 0]]), [out([[0, 0, 1]]), out([[2, 2, 2]])], [1])))).toBe(0);
    expect(() => aekd.create(stubContext(aekd, { C: 1.5 }, stub('resnet20', 0), [stub('resnet20', 1)]))).toThrow(/C must be in \[0, 1\]/);
  });
});
