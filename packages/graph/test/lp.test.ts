import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@kdbench/engine';
import { lp, localityPreservingLoss } from '../src/lp.js';
import { context, expectGradients, expectMetadata, expectNoLeak, forward, io, value, values } from './helpers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const sqd = (a: number[], b: number[]) => a.reduce((s, x, k) => s + (x - b[k]!) ** 2, 0);

function lpLoop(s: number[][], t: number[][], k: number, sigma2: number): number {
  let total = 0;
  t.forEach((ti, i) => {
    const nbrs = t.map((tj, j) => ({ j, d: sqd(ti, tj) })).filter((x) => x.j !== i).sort((a, b) => a.d - b.d).slice(0, k);
    for (const { j, d } of nbrs) total += Math.exp(-d / sigma2) * sqd(s[i]!, s[j]!);
  });
  return total / (2 * s.length);
}

describe('lp: locality-preserving loss (Chen et al. 2021)', () => {
  const B = 5, D = 3;
  const sv = values(B * D, 50), tv = values(B * 4, 51);
  const rows = (v: number[], d: number) => Array.from({ length: B }, (_, b) => v.slice(b * d, (b + 1) * d));

  it('equals a loop implementation with a fixed sigma^2 and k = 2', () => {
    const s = tf.tensor2d(sv, [B, D]), t = tf.tensor2d(tv, [B, 4]);
    expect(value(localityPreservingLoss(s, t, 2, 1.5))).toBeCloseTo(lpLoop(rows(sv, D), rows(tv, 4), 2, 1.5), 5);
    tf.dispose([s, t]);
  });

  it('is 0 when neighbouring students coincide, and positive otherwise', () => {
    const t = tf.tensor2d([[0, 0], [0.1, 0], [5, 5], [5.1, 5]]);
    const s = tf.tensor2d([[1, 1], [1, 1], [-2, 3], [-2, 3]]);
    expect(value(localityPreservingLoss(s, t, 1, 1))).toBeCloseTo(0, 7);
    expect(value(localityPreservingLoss(t, t, 1, 1))).toBeGreaterThan(0);
    tf.dispose([s, t]);
  });

  it('normalized: the smoothness over the degree-weighted spread, computed by hand on 3 points', () => {
    // teacher: 0 and 1 are each other's nearest neighbour, 2 is nearest to 1 (k = 1, sigma^2 = 1)
    const t = tf.tensor2d([[0], [1], [3]]);
    const s = tf.tensor2d([[0, 0], [2, 0], [2, 2]]);
    const a01 = Math.exp(-1), a10 = Math.exp(-1), a21 = Math.exp(-4);
    const smooth = a01 * 4 + a10 * 4 + a21 * 4;
    const deg = [(a01 + a10) / 2, (a01 + a10 + a21) / 2, a21 / 2];
    const sum = deg[0]! + deg[1]! + deg[2]!;
    const m = [(deg[1]! * 2 + deg[2]! * 2) / sum, (deg[2]! * 2) / sum];
    const pts = [[0, 0], [2, 0], [2, 2]];
    const spread = pts.reduce((acc, p, i) => acc + deg[i]! * ((p[0]! - m[0]!) ** 2 + (p[1]! - m[1]!) ** 2), 0);
    expect(value(localityPreservingLoss(s, t, 1, 1, true))).toBeCloseTo(smooth / (2 * spread), 5);
    tf.dispose([s, t]);
  });

  it('normalized: scale-free, and identical embeddings are no longer a minimiser', () => {
    const s = tf.tensor2d(sv, [B, D]), t = tf.tensor2d(tv, [B, 4]);
    const s10 = tf.mul(s, 10), shrunk = tf.mul(s, 1e-3);
    const base = value(localityPreservingLoss(s, t, 2, 0, true));
    expect(value(localityPreservingLoss(s10, t, 2, 0, true))).toBeCloseTo(base, 4);
    expect(value(localityPreservingLoss(shrunk, t, 2, 0, true))).toBeCloseTo(base, 3); // the raw form -> 0 here
    expect(value(localityPreservingLoss(shrunk, t, 2, 0, false))).toBeLessThan(1e-5 * value(localityPreservingLoss(s, t, 2, 0, false)));
    expect(base).toBeGreaterThan(0);
    expect(base).toBeLessThanOrEqual(2);
    tf.dispose([s, t, s10, shrunk]);
  });

  it('rejects a normalized value other than 0 or 1', () => {
    const s = forward({ logits: tf.tensor2d(values(B * 3, 1), [B, 3]), embedding: tf.tensor2d(sv, [B, D]) });
    const t = forward({ logits: tf.tensor2d(values(B * 3, 2), [B, 3]), embedding: tf.tensor2d(tv, [B, 4]) });
    expect(() => lp.create({ ...context(lp, s, t), hp: { ...lp.defaults, normalized: 2 } })).toThrow(/normalized must be 0 or 1/);
  });

  it('sends gradients to the student embedding and leaks nothing', () => {
    const emb = tf.variable(tf.tensor2d(sv, [B, D]));
    const s = forward({ logits: tf.tensor2d(values(B * 3, 1), [B, 3]), embedding: emb as tf.Tensor2D });
    const t = forward({ logits: tf.tensor2d(values(B * 3, 2), [B, 3]), embedding: tf.tensor2d(tv, [B, 4]) });
    const inst = lp.create(context(lp, s, t));
    expectGradients(() => inst.losses(io(s, t)), [emb]);
    expectNoLeak(inst, () => io(s, t));
  });

  it('cites its paper and states its unverified hyperparameters', () => {
    expectMetadata(lp, { gamma: 1, beta: 1, k: 5, sigma2: 0, normalized: 1 }, '1812.06597');
    expect(lp.deviations).toMatch(/could not/);
  });
});
