/**
 * Loss parity with the authors' code (benchmarks/published/loss-parity, RepDistiller at b84f547):
 * AT's per-pair attention losses, including a pair whose student map is pooled (6x6 to 3x3).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { fixtureInput, gradFindings, lossFindings, readParityFixture, termsAndGrads } from '@kdbench/core/testing';
import { tf } from '@kdbench/engine';
import { atLayerLosses } from '../src/at.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('loss parity with the authors\' code', () => {
  it('at: per-pair attention losses (p = 2) = RepDistiller Attention', () => {
    const fx = readParityFixture('at');
    const stem = tf.zeros([8, 1, 1, 1]) as tf.Tensor4D;
    const gs = [0, 1].map((i) => tf.variable(fixtureInput(fx, `g_s.${i}`)) as tf.Variable<tf.Rank.R4>);
    const gt = [0, 1].map((i) => fixtureInput(fx, `g_t.${i}`) as tf.Tensor4D);
    const { values, grads } = termsAndGrads(gs, () => atLayerLosses([stem, ...gs], [stem, ...gt], fx.params.p as number));
    expect(lossFindings(fx, values)).toEqual([]);
    gs.forEach((g, i) => expect(gradFindings(fx, `g_s.${i}`, grads.get(g)!)).toEqual([]));
  });
});
