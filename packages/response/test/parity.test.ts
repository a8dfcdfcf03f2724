/**
 * Loss parity with the authors' code (benchmarks/published/loss-parity): KD against RepDistiller's
 * DistillKL and DKD against mdistiller's dkd_loss, loss and gradients within the fixtures' tolerances.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { softTargetKL } from '@kdbench/core';
import { fixtureInput, gradFindings, lossFindings, readParityFixture, termsAndGrads } from '@kdbench/core/testing';
import { tf } from '@kdbench/engine';
import { dkdTerms } from '../src/dkd.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('loss parity with the authors\' code', () => {
  it('kd: softTargetKL = RepDistiller DistillKL (T = 4)', () => {
    const fx = readParityFixture('kd');
    const ys = tf.variable(fixtureInput(fx, 'y_s'));
    const yt = fixtureInput(fx, 'y_t') as tf.Tensor2D;
    const { values, grads } = termsAndGrads([ys], () => [softTargetKL(ys as tf.Tensor2D, yt, fx.params.T as number)]);
    expect(lossFindings(fx, values[0]!)).toEqual([]);
    expect(gradFindings(fx, 'y_s', grads.get(ys)!)).toEqual([]);
    tf.dispose([ys, yt, ...grads.values()]);
  });

  it('dkd: alpha * TCKD + beta * NCKD = mdistiller dkd_loss (alpha 1, beta 8, T 4)', () => {
    const fx = readParityFixture('dkd');
    const { alpha, beta, temperature } = fx.params as { alpha: number; beta: number; temperature: number };
    const ls = tf.variable(fixtureInput(fx, 'logits_student'));
    const lt = fixtureInput(fx, 'logits_teacher') as tf.Tensor2D;
    const target = fixtureInput(fx, 'target') as tf.Tensor1D;
    const { values, grads } = termsAndGrads([ls], () => {
      const { tckd, nckd } = dkdTerms(ls as tf.Tensor2D, lt, target, temperature);
      return [tf.add(tf.mul(tckd, alpha), tf.mul(nckd, beta)) as tf.Scalar];
    });
    expect(lossFindings(fx, values[0]!)).toEqual([]);
    expect(gradFindings(fx, 'logits_student', grads.get(ls)!)).toEqual([]);
    tf.dispose([ls, lt, target, ...grads.values()]);
  });
});
