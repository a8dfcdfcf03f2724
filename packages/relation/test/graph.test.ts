import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@kdbench/engine';
import { graph, localityPreservingLoss } from '../src/graph.js';
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

describe('graph: locality-preserving loss (Chen et al. 2021)', () => {
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

  it('sends gradients to the student embedding and leaks nothing', () => {
    const emb = tf.variable(tf.tensor2d(sv, [B, D]));
    const s = forward({ logits: tf.tensor2d(values(B * 3, 1), [B, 3]), embedding: emb as tf.Tensor2D });
    const t = forward({ logits: tf.tensor2d(values(B * 3, 2), [B, 3]), embedding: tf.tensor2d(tv, [B, 4]) });
    const inst = graph.create(context(graph, s, t));
    expectGradients(() => inst.losses(io(s, t)), [emb]);
    expectNoLeak(inst, () => io(s, t));
  });

  it('cites its paper and states its unverified hyperparameters', () => {
    expectMetadata(graph, { gamma: 1, beta: 1, k: 5, sigma2: 0 }, '1812.06597');
    expect(graph.deviations).toMatch(/could not/);
  });
});
