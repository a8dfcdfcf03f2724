import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@kdbench/engine';
import { rkd, rkdLoss } from '../src/rkd.js';
import { context, expectGradients, expectMetadata, expectNoLeak, forward, io, value, values } from './helpers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const huber = (a: number, b: number) => {
  const d = Math.abs(a - b);
  return d < 1 ? 0.5 * d * d : d - 0.5;
};
const sub = (a: number[], b: number[]) => a.map((x, k) => x - b[k]!);
const dot = (a: number[], b: number[]) => a.reduce((acc, x, k) => acc + x * b[k]!, 0);
const unit = (a: number[]) => {
  const n = Math.sqrt(dot(a, a));
  return n > 0 ? a.map((x) => x / n) : a.map(() => 0);
};

/** Loop version of Park et al.: 25 * Huber(distances / mean) + 50 * Huber(triplet cosines). */
function rkdLoop(s: number[][], t: number[][]): number {
  const B = s.length;
  const dist = (q: number[][]) => {
    const d: number[] = [];
    for (let i = 0; i < B; i++) for (let j = 0; j < B; j++) d.push(i === j ? 0 : Math.sqrt(dot(sub(q[i]!, q[j]!), sub(q[i]!, q[j]!))));
    const pos = d.filter((x) => x > 0);
    const mean = pos.reduce((x, y) => x + y, 0) / pos.length;
    return d.map((x) => x / mean);
  };
  const angles = (q: number[][]) => {
    const a: number[] = [];
    for (let j = 0; j < B; j++) for (let i = 0; i < B; i++) for (let k = 0; k < B; k++) {
      a.push(dot(unit(sub(q[i]!, q[j]!)), unit(sub(q[k]!, q[j]!))));
    }
    return a;
  };
  const mean = (x: number[]) => x.reduce((p, q) => p + q, 0) / x.length;
  const ds = dist(s), dt = dist(t), as = angles(s), at = angles(t);
  return 25 * mean(ds.map((x, i) => huber(x, dt[i]!))) + 50 * mean(as.map((x, i) => huber(x, at[i]!)));
}

describe('rkd (Park et al. 2019)', () => {
  const B = 4, D = 3;
  const sv = values(B * D, 8);
  const tv = values(B * D, 9);
  const rows = (v: number[]) => Array.from({ length: B }, (_, b) => v.slice(b * D, (b + 1) * D));

  it('equals a loop implementation of the distance and angle terms', () => {
    const s = tf.tensor2d(sv, [B, D]);
    const t = tf.tensor2d(tv, [B, D]);
    expect(value(rkdLoss(s, t, 25, 50))).toBeCloseTo(rkdLoop(rows(sv), rows(tv)), 4);
    tf.dispose([s, t]);
  });

  it('is ~0 when the student equals the teacher, also up to scale (distances are mean-normalised)', () => {
    const t = tf.tensor2d(tv, [B, D]);
    const scaled = tf.mul(t, 3);
    expect(value(rkdLoss(t, t, 25, 50))).toBeLessThan(1e-6);
    expect(value(rkdLoss(scaled, t, 25, 50))).toBeLessThan(1e-5);
    tf.dispose([t, scaled]);
  });

  it('sends gradients to the student embedding and leaks nothing', () => {
    const emb = tf.variable(tf.tensor2d(sv, [B, D]));
    const s = forward({ logits: tf.tensor2d(values(B * 3, 1), [B, 3]), embedding: emb as tf.Tensor2D });
    const t = forward({ logits: tf.tensor2d(values(B * 3, 2), [B, 3]), embedding: tf.tensor2d(tv, [B, D]) });
    const inst = rkd.create(context(rkd, s, t));
    expect(value(inst.losses(io(s, t)).rkd!)).toBeCloseTo(rkdLoop(rows(sv), rows(tv)), 4);
    expectGradients(() => inst.losses(io(s, t)), [emb]);
    expectNoLeak(inst, () => io(s, t));
  });

  it('has the CRD defaults and cites its paper', () => {
    expectMetadata(rkd, { gamma: 1, beta: 1, wDistance: 25, wAngle: 50 }, '1904.05068');
  });
});
