import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@kdbench/engine';
import { irg, irgLosses } from '../src/irg.js';
import { context, expectGradients, expectMetadata, expectNoLeak, forward, io, value, values } from './helpers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const sqd = (a: number[], b: number[]) => a.reduce((s, x, k) => s + (x - b[k]!) ** 2, 0);
const byMax = (v: number[]) => { const m = Math.max(...v); return v.map((x) => x / m); };
const euclid = (a: number[], b: number[], n: number) => sqd(a, b) / (2 * n);
/** Global average pool of a [b][h*w][c] list. */
const gap = (v: number[], B: number, hw: number, c: number) =>
  Array.from({ length: B }, (_, b) => Array.from({ length: c }, (_, k) => {
    let s = 0;
    for (let p = 0; p < hw; p++) s += v[(b * hw + p) * c + k]!;
    return s / hw;
  }));
const edges = (q: number[][]) => byMax(q.flatMap((a) => q.map((b) => sqd(a, b))));
/** Transformation with channel-group averaging of the wider layer. */
const tran = (p: number[][], q: number[][]) => byMax(p.map((a, i) => {
  const k = q[i]!.length / a.length;
  const r = Array.from({ length: a.length }, (_, c) => { let s = 0; for (let j = 0; j < k; j++) s += q[i]![c * k + j]!; return s / k; });
  return sqd(a, r);
}));

describe('irg (Liu et al. 2019)', () => {
  const B = 3;
  // features: stem (ignored), stage1 [2x2x2], stage2 [1x1x4]
  const mk = (seed: number) => ({
    st: values(B * 4 * 2, seed), s1: values(B * 4 * 2, seed + 1), s2: values(B * 4, seed + 2), lg: values(B * 3, seed + 3),
  });
  const S = mk(30), T = mk(40);
  const build = (v: typeof S, asVars = false) => {
    const w = <X extends tf.Tensor>(x: X) => (asVars ? (tf.variable(x) as unknown as X) : x);
    return forward({
      logits: w(tf.tensor2d(v.lg, [B, 3])),
      features: [w(tf.tensor4d(v.st, [B, 2, 2, 2])), w(tf.tensor4d(v.s1, [B, 2, 2, 2])), w(tf.tensor4d(v.s2, [B, 1, 1, 4]))],
    });
  };

  it('vertex, edge and transformation terms equal loop implementations (Caffe EuclideanLoss)', () => {
    const l = irgLosses(build(S), build(T));
    const [s1, s2] = [gap(S.s1, B, 4, 2), gap(S.s2, B, 1, 4)];
    const [t1, t2] = [gap(T.s1, B, 4, 2), gap(T.s2, B, 1, 4)];
    expect(value(l.vertex)).toBeCloseTo(euclid(S.lg, T.lg, B), 5);
    expect(value(l.edge)).toBeCloseTo(euclid(edges(s1), edges(t1), B) + euclid(edges(s2), edges(t2), B), 5);
    expect(value(l.transform)).toBeCloseTo(euclid(tran(s1, s2), tran(t1, t2), 1), 5);
    const same = irgLosses(build(T), build(T));
    expect(value(same.vertex) + value(same.edge) + value(same.transform)).toBeCloseTo(0, 7);
  });

  it('sends gradients to the student features and logits, and leaks nothing', () => {
    const s = build(S, true);
    const t = build(T);
    const inst = irg.create(context(irg, s, t));
    const vars = [s.logits, ...s.features.slice(1).map((f) => f.post)] as unknown as tf.Variable[];
    expectGradients(() => inst.losses(io(s, t)), vars);
    expectNoLeak(inst, () => io(s, t));
  });

  it('has the official weights and cites its paper', () => {
    expectMetadata(irg, { gamma: 1, wVertex: 0.005, wEdge: 0.005, wTransform: 0.005 }, 'Liu_Knowledge_Distillation');
  });
});
