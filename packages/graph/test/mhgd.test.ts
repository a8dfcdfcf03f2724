import { beforeAll, describe, expect, it } from 'vitest';
import { disposeInstance, leakOf, stagesOf, varsOf } from '@kdbench/core/testing';
import { Rng, tf } from '@kdbench/engine';
import { headDropMask, headGraphs, mhgd, rowKLSum, warmUp } from '../src/mhgd.js';
import { alignToTeacher, rightSingularVectors, symmetricEigen } from '../src/shared/singular-vectors.js';
import { context, expectGradients, expectMetadata, expectNoLeak, forward, io, value, values } from './helpers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('mhgd pieces', () => {
  it('symmetricEigen: X = [[2,1],[0,1],[1,0]] has X^T X = [[5,2],[2,2]], eigenvalues 6 and 1, top vector (2,1)/sqrt 5', () => {
    const { values: ev, vectors } = symmetricEigen([5, 2, 2, 2], 2);
    expect(ev[0]).toBeCloseTo(6, 10);
    expect(ev[1]).toBeCloseTo(1, 10);
    expect(vectors[0]).toBeCloseTo(0.894427, 6); // largest component positive
    expect(vectors[1]).toBeCloseTo(0.447214, 6);
    expect(Math.abs(vectors[2]!)).toBeCloseTo(0.447214, 6);
    const v = rightSingularVectors(tf.tensor3d([[[2, 1], [0, 1], [1, 0]]]), 1).dataSync();
    expect(v[0]).toBeCloseTo(0.894427, 5);
    expect(v[1]).toBeCloseTo(0.447214, 5);
  });

  it('rightSingularVectors: the gradient equals central differences of the eigenvectors (float64 reference)', () => {
    const [n, d, keep] = [5, 3, 2];
    const xv = values(n * d, 11);
    const c = values(keep * d, 12);
    // f(X) = sum_i c_i . v_i(X), the vectors of X^T X from the Jacobi solver in float64
    const f = (x: number[]) => {
      const g = new Float64Array(d * d);
      for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) for (let r = 0; r < n; r++) g[a * d + b] += x[r * d + a]! * x[r * d + b]!;
      const { vectors } = symmetricEigen(g, d);
      return c.reduce((s, ci, k) => s + ci * vectors[k]!, 0);
    };
    const h = 1e-6;
    const numeric = xv.map((_, k) => {
      const up = [...xv]; up[k] += h;
      const down = [...xv]; down[k] -= h;
      return (f(up) - f(down)) / (2 * h);
    });
    const grad = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(rightSingularVectors(x as tf.Tensor3D, keep), tf.tensor3d(c, [1, keep, d]))))(
      tf.tensor3d(xv, [1, n, d]),
    ).dataSync();
    numeric.forEach((g, k) => expect(grad[k]).toBeCloseTo(g, 3));
  });

  it('alignToTeacher: picks the student vector with the largest |cosine| and flips it to the teacher\'s sign', () => {
    // teacher (1, 0); student candidates (0, 1) and (-1, 0): the second, times -1
    const a = alignToTeacher(tf.tensor3d([[[0, 1], [-1, 0]]]), tf.tensor2d([[1, 0]])).dataSync();
    expect([...a]).toEqual([1, 0]);
  });

  it('headGraphs: heads interleaved as the code\'s reshape to [B, d, H]', () => {
    // H = 2, d = 2: head h reads columns h and 2 + h. S rows (1,2,3,4), (5,6,7,8); R rows (1,0,0,1), (0,1,1,0)
    // head 0: S (1,3), (5,7) . R (1,0), (0,1) -> [[1,3],[5,7]]; head 1: S (2,4), (6,8) . R (0,1), (1,0) -> [[4,2],[8,6]]
    const g = headGraphs(tf.tensor2d([[1, 2, 3, 4], [5, 6, 7, 8]]), tf.tensor2d([[1, 0, 0, 1], [0, 1, 1, 0]]), 2).arraySync();
    expect(g).toEqual([[[1, 3], [5, 7]], [[4, 2], [8, 6]]]);
  });

  it('rowKLSum of tanh graphs: 1 head, 2 vertices, by hand', () => {
    // G_S = [[1,0],[0,0]], G_T = 0: row 1 p_S = softmax(tanh 1, 0) = (0.681700, 0.318300), p_T = (0.5, 0.5):
    // KL = 0.6817 ln(1.3634) + 0.3183 ln(0.6366) = 0.0675656; row 2 is 0
    expect(value(rowKLSum(tf.tanh(tf.tensor3d([[[1, 0], [0, 0]]])), tf.tanh(tf.zeros([1, 2, 2]))))).toBeCloseTo(0.0675656, 6);
    // G_S = [[1,0],[0,2]], G_T = [[0,1],[0,0]]: a sum over both rows, 0.380704 (numpy)
    expect(value(rowKLSum(tf.tanh(tf.tensor3d([[[1, 0], [0, 2]]])), tf.tanh(tf.tensor3d([[[0, 1], [0, 0]]]))))).toBeCloseTo(0.380704, 5);
  });

  it('headDropMask: per sample, the heads whose draw exceeds the mean over heads; seeded', () => {
    const m = headDropMask(new Rng(3), 8, 5).arraySync() as number[][][];
    for (let i = 0; i < 5; i++) {
      const kept = m.map((h) => h[i]![0]!);
      expect(kept.every((k) => k === 0 || k === 1)).toBe(true);
      expect(kept.some((k) => k === 1) && kept.some((k) => k === 0)).toBe(true);
    }
    expect(headDropMask(new Rng(3), 8, 5).arraySync()).toEqual(m);
  });
});

describe('mhgd (Lee & Song 2019)', () => {
  const B = 4;
  const maps = (seed: number, asVars = false) => {
    const w = <X extends tf.Tensor>(x: X) => (asVars ? (tf.variable(x) as unknown as X) : x);
    return [
      tf.tensor4d(values(B * 16 * 2, seed), [B, 4, 4, 2]),
      w(tf.tensor4d(values(B * 16 * 3, seed + 1), [B, 4, 4, 3])),
      w(tf.tensor4d(values(B * 4 * 4, seed + 2), [B, 2, 2, 4])),
      w(tf.tensor4d(values(B * 4 * 5, seed + 3), [B, 2, 2, 5])),
    ];
  };
  const build = (hp: Partial<typeof mhgd.defaults> = {}) => {
    const fs = maps(20, true);
    const s = forward({ logits: tf.variable(tf.tensor2d(values(B * 3, 1), [B, 3])) as unknown as tf.Tensor2D, features: fs });
    const t = forward({ logits: tf.tensor2d(values(B * 3, 2), [B, 3]), features: maps(40) });
    const inst = mhgd.create({ ...context(mhgd, s, t), hp: { ...mhgd.defaults, heads: 2, studentVectors: 2, ...hp } });
    return { s, t, inst, studentVars: fs.slice(1) as unknown as tf.Variable[] };
  };

  it('stage 1 trains the attention networks on the teacher; every one of their variables gets a gradient', () => {
    const { s, t, inst } = build();
    const [stage] = stagesOf(inst);
    expect(stage!.name).toBe('mhgd-attention');
    expect(stage!.epochs).toBe(96); // 0.4 * 240
    const vars = varsOf(inst, 'attention');
    expect(stage!.variables()).toEqual(vars);
    // 3 stage outputs -> 2 pairs, each sender / receiver / hidden (weight, gamma, beta) + out (weight, bias)
    expect(vars).toHaveLength(2 * (3 * 3 + 2));
    const mha = value(stage!.losses(io(s, t)).mha!);
    expect(mha).toBeGreaterThan(0);
    expect(mha).toBeLessThan(4); // a sum of two means of 1 - cos
    expectGradients(() => stage!.losses(io(s, t)), vars);
    disposeInstance(inst);
  });

  it('main stage: the student gets gradients through its singular vectors; the frozen attention networks get none', () => {
    const { s, t, inst, studentVars } = build();
    const vars = varsOf(inst, 'attention');
    expectGradients(() => inst.losses(io(s, t)), studentVars);
    tf.tidy(() => {
      const { grads } = tf.variableGrads(() => tf.addN(Object.values(inst.losses(io(s, t)))) as tf.Scalar, [...vars, ...studentVars]);
      for (const v of vars) expect(grads[v.name]).toBeUndefined();
    });
    const terms = inst.losses(io(s, t));
    expect(Object.keys(terms)).toEqual(['ce', 'graph']);
    expect(value(terms.graph!)).toBeGreaterThan(0);
    const same = mhgd.create({ ...context(mhgd, t, t), hp: { ...mhgd.defaults, heads: 2, studentVectors: 2 } });
    expect(value(same.losses(io(t, t)).graph!)).toBeCloseTo(0, 5); // the student equal to the teacher
    disposeInstance(same);
    disposeInstance(inst);
  });

  it('leaks nothing (stage and main) and repeats itself under the seed', () => {
    const a = build();
    const b = build();
    const first = (x: typeof a) => [value(stagesOf(x.inst)[0]!.losses(io(x.s, x.t)).mha!), value(x.inst.losses(io(x.s, x.t)).graph!)];
    expect(first(b)).toEqual(first(a));
    expectNoLeak(a.inst, () => io(a.s, a.t));
    const [st] = stagesOf(a.inst);
    expect(leakOf(() => st!.losses(io(a.s, a.t)))).toBe(0);
    [a.inst, b.inst].forEach((i) => disposeInstance(i));
  });

  it('refuses bad hyperparameters and unequal stage widths, naming them', () => {
    expect(() => build({ heads: 0 })).toThrow(/mhgd: heads must be a positive integer, got 0/);
    expect(() => build({ attentionFraction: 0 })).toThrow(/attentionFraction must be > 0/);
    expect(() => build({ studentVectors: 4 })).toThrow(/studentVectors must be an integer in \[1, 3\] \(the narrowest stage\), got 4/);
    const s = forward({ logits: tf.tensor2d(values(B * 3, 1), [B, 3]), features: maps(1) });
    const t = forward({ logits: tf.tensor2d(values(B * 3, 2), [B, 3]), features: maps(2).map((f) => tf.concat([f, f], 3)) });
    expect(() => mhgd.create(context(mhgd, s, t))).toThrow(/student \[3, 4, 5\], teacher \[6, 8, 10\]/);
  });

  it('caps the graph gradient by the cross-entropy\'s with the code\'s sigmoid warm-up, at the code\'s epoch scale', () => {
    expect(warmUp(0)).toBe(0.5);
    expect(warmUp(1)).toBeCloseTo(1 / (1 + Math.exp(-1)), 12);
    expect(warmUp(18)).toBeLessThan(1);
    expect(warmUp(19)).toBe(1); // within 1e-8 of 1: exactly 1, as the code's tf.cond
    const { inst } = build(); // 240 epochs: the code's 100 student epochs are 240 here
    const cap = inst.procedure!.main!.gradientCap!;
    expect(cap.term).toBe('graph');
    expect(cap.factor(0)).toBe(0.5);
    expect(cap.factor(12)).toBeCloseTo(warmUp(5), 12);
    disposeInstance(inst);
  });

  it('cites its paper and states where it departs', () => {
    expectMetadata(mhgd, { gamma: 1, beta: 1, heads: 8, attentionFraction: 0.4, studentVectors: 4 }, '1907.02226');
    expect(mhgd.deviations).toMatch(/warm-up counts epochs at the code's scale/);
  });
});
