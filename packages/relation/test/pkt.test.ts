import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@kdbench/engine';
import { pkt, pktLoss } from '../src/pkt.js';
import { context, expectGradients, expectMetadata, expectNoLeak, forward, io, value, values } from './helpers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function pktLoop(s: number[][], t: number[][]): number {
  const eps = 1e-7;
  const probs = (q: number[][]) => {
    const n = q.map((a) => {
      const norm = Math.sqrt(a.reduce((acc, x) => acc + x * x, 0));
      return a.map((x) => x / (norm + eps));
    });
    return n.map((a) => {
      const row = n.map((b) => (a.reduce((acc, x, k) => acc + x * b[k]!, 0) + 1) / 2);
      const sum = row.reduce((x, y) => x + y, 0);
      return row.map((x) => x / sum);
    });
  };
  const ps = probs(s);
  const pt = probs(t);
  let total = 0;
  pt.forEach((row, i) => row.forEach((p, j) => (total += p * Math.log((p + eps) / (ps[i]![j]! + eps)))));
  return total / (s.length * s.length);
}

describe('pkt (Passalis & Tefas 2018)', () => {
  const B = 4, D = 3;
  const sv = values(B * D, 4);
  const tv = values(B * D, 5);
  const rows = (v: number[]) => Array.from({ length: B }, (_, b) => v.slice(b * D, (b + 1) * D));

  it('equals a loop implementation and is ~0 when student equals teacher', () => {
    const s = tf.tensor2d(sv, [B, D]);
    const t = tf.tensor2d(tv, [B, D]);
    expect(value(pktLoss(s, t))).toBeCloseTo(pktLoop(rows(sv), rows(tv)), 6);
    expect(Math.abs(value(pktLoss(t, t)))).toBeLessThan(1e-6);
    tf.dispose([s, t]);
  });

  it('sends gradients to the student embedding and leaks nothing', () => {
    const emb = tf.variable(tf.tensor2d(sv, [B, D]));
    const s = forward({ logits: tf.tensor2d(values(B * 3, 6), [B, 3]), embedding: emb as tf.Tensor2D });
    const t = forward({ logits: tf.tensor2d(values(B * 3, 7), [B, 3]), embedding: tf.tensor2d(tv, [B, D]) });
    const inst = pkt.create(context(pkt, s, t));
    expect(value(inst.losses(io(s, t)).pkt!)).toBeCloseTo(30000 * pktLoop(rows(sv), rows(tv)), 1);
    expectGradients(() => inst.losses(io(s, t)), [emb]);
    expectNoLeak(inst, () => io(s, t));
  });

  it('has the CRD defaults and cites its paper', () => {
    expectMetadata(pkt, { gamma: 1, beta: 30000 }, '1803.10837');
  });
});
