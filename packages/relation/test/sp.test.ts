import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@kdbench/engine';
import { similarityPreservingLoss, sp } from '../src/sp.js';
import { context, expectGradients, expectMetadata, expectNoLeak, forward, io, value, values } from './helpers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Straightforward loop version of 1/B^2 ||norm(Q_t Q_t^T) - norm(Q_s Q_s^T)||_F^2. */
function spLoop(s: number[][], t: number[][]): number {
  const g = (q: number[][]) =>
    q.map((a) => {
      const row = q.map((b) => a.reduce((acc, x, k) => acc + x * b[k]!, 0));
      const n = Math.sqrt(row.reduce((acc, x) => acc + x * x, 0));
      return row.map((x) => x / n);
    });
  const gs = g(s);
  const gt = g(t);
  let sum = 0;
  gs.forEach((row, i) => row.forEach((x, j) => (sum += (gt[i]![j]! - x) ** 2)));
  return sum / (s.length * s.length);
}

describe('sp (Tung & Mori 2019)', () => {
  const B = 3, H = 2, C = 2;
  const sv = values(B * H * H * C, 1);
  const tv = values(B * H * H * C, 2);
  const rows = (v: number[]) => Array.from({ length: B }, (_, b) => v.slice(b * H * H * C, (b + 1) * H * H * C));

  it('equals a loop implementation on hand-made activations, and is 0 for equal ones', () => {
    const fs = tf.tensor4d(sv, [B, H, H, C]);
    const ft = tf.tensor4d(tv, [B, H, H, C]);
    expect(value(similarityPreservingLoss(fs, ft))).toBeCloseTo(spLoop(rows(sv), rows(tv)), 5);
    expect(value(similarityPreservingLoss(fs, fs))).toBeCloseTo(0, 7);
    tf.dispose([fs, ft]);
  });

  it('weights CE and SP with the CRD defaults, sends gradients to the student feature, leaks nothing', () => {
    const fsVar = tf.variable(tf.tensor4d(sv, [B, H, H, C]));
    const ft = tf.tensor4d(tv, [B, H, H, C]);
    const logits = tf.variable(tf.tensor2d(values(B * 3, 3), [B, 3]));
    const s = forward({ logits: logits as tf.Tensor2D, features: [fsVar as tf.Tensor4D] });
    const t = forward({ logits: logits as tf.Tensor2D, features: [ft] });
    const inst = sp.create(context(sp, s, t));
    const terms = inst.losses(io(s, t));
    expect(value(terms.sp!)).toBeCloseTo(3000 * spLoop(rows(sv), rows(tv)), 2);
    expectGradients(() => inst.losses(io(s, t)), [fsVar, logits]);
    expectNoLeak(inst, () => io(s, t));
  });

  it('has the CRD defaults and cites its paper', () => {
    expectMetadata(sp, { gamma: 1, beta: 3000 }, '1907.09682');
  });
});
