import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@kdbench/engine';
import { leakOf } from '@kdbench/core/testing';
import { lsp, lspLoss } from '../src/lsp.js';
import { context, expectGradients, expectMetadata, expectNoLeak, forward, io, value, values } from './helpers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// 3 vertices, each with the other two as neighbours (k = 2). Teacher z = (0,0), (1,0), (0,2): L1
// distances d01 = 1, d02 = 2, d12 = 3; student z = (0,0), (1,1), (1,0): d01 = 2, d02 = 1, d12 = 1.
const zt = () => tf.tensor2d([[0, 0], [1, 0], [0, 2]]);
const zs = () => tf.tensor2d([[0, 0], [1, 1], [1, 0]]);

describe('lsp (Yang et al. 2020)', () => {
  it('equals the KL of local structures computed by hand, at scale 1 and the code\'s 100', () => {
    // scale 1, vertex 0: teacher kernels (e^-1, e^-2) = (0.367879, 0.135335) -> softmax (0.557875, 0.442125);
    // student kernels (e^-2, e^-1) -> (0.442125, 0.557875). Vertex 1: teacher (e^-1, e^-3) -> (0.578859, 0.421141),
    // student (e^-2, e^-1) -> (0.442125, 0.557875). Vertex 2: teacher (e^-2, e^-3) -> (0.521374, 0.478626), student (0.5, 0.5).
    // KL per vertex: 0.0516658, 0.0392617, 0.0044761; mean 0.0218012 (numpy)
    expect(value(lspLoss(zs(), zt(), 2, 1))).toBeCloseTo(0.0218012, 6);
    expect(value(lspLoss(zs(), zt(), 2, 100))).toBeCloseTo(5.62872e-5, 7); // float32: within 5e-8
  });

  it('adaptive scale: each network\'s mean L1 distance over the edges (teacher 2, student 4/3)', () => {
    // the same KL with the teacher's kernel exp(-d/2) and the student's exp(-d/(4/3)): 0.0272047 (numpy)
    expect(value(lspLoss(zs(), zt(), 2, 0))).toBeCloseTo(0.0272047, 6);
    // scale-free: multiplying the student's features by 5 leaves the adaptive loss unchanged
    expect(value(lspLoss(tf.mul(zs(), 5) as tf.Tensor2D, zt(), 2, 0))).toBeCloseTo(0.0272047, 6);
  });

  it('uses the teacher\'s nearest neighbours: with k = 1 only the nearest vertex remains, and the KL is 0', () => {
    // one neighbour per vertex: every local structure is the distribution (1) whatever the features
    expect(value(lspLoss(zs(), zt(), 1, 1))).toBeCloseTo(0, 7);
    // k above B - 1 is capped: k = 5 equals k = 2 here
    expect(value(lspLoss(zs(), zt(), 5, 1))).toBeCloseTo(0.0218012, 6);
    expect(value(lspLoss(zs(), zs(), 2, 1))).toBeCloseTo(0, 7);
  });

  it('sends gradients to the student embedding, not the teacher; leaks nothing; deterministic', () => {
    const emb = tf.variable(tf.tensor2d(values(12, 3), [4, 3]));
    const s = forward({ logits: tf.tensor2d(values(12, 1), [4, 3]), embedding: emb as unknown as tf.Tensor2D });
    const t = forward({ logits: tf.tensor2d(values(12, 2), [4, 3]), embedding: tf.tensor2d(values(20, 4), [4, 5]) });
    const inst = lsp.create(context(lsp, s, t));
    expectGradients(() => inst.losses(io(s, t)), [emb]);
    expectNoLeak(inst, () => io(s, t));
    const a = value(inst.losses(io(s, t)).lsp!);
    expect(value(lsp.create(context(lsp, s, t)).losses(io(s, t)).lsp!)).toBe(a);
    expect(leakOf(() => lspLoss(emb as unknown as tf.Tensor2D, t.embedding, 2, 0))).toBe(0);
  });

  it('refuses a k that is not a positive integer', () => {
    const s = forward({ logits: tf.tensor2d(values(6, 1), [2, 3]) });
    expect(() => lsp.create({ ...context(lsp, s, s), hp: { ...lsp.defaults, k: 0 } })).toThrow(/lsp: k must be a positive integer, got 0/);
    expect(() => lsp.create({ ...context(lsp, s, s), hp: { ...lsp.defaults, k: 2.5 } })).toThrow(/got 2.5/);
  });

  it('cites its paper and states its departures', () => {
    expectMetadata(lsp, { gamma: 1, beta: 1, k: 8, scale: 0 }, '2003.10477');
    expect(lsp.deviations).toMatch(/100/);
  });
});
