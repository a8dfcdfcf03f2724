import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@kdbench/engine';
import { at } from '../src/at.js';
import { ctxFor, fwd, leakOf, rand, runOnRealModels, stepIO, value } from '@kdbench/core/testing';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Mean over (batch, positions) of the squared difference of L2-normalised maps mean_c f^2, by loops. */
function atByLoop(fs: number[][][][], ft: number[][][][]): number {
  const map = (f: number[][][]) => {
    const q = f.flatMap((row) => row.map((px) => px.reduce((a, v) => a + v * v, 0) / px.length));
    const n = Math.sqrt(q.reduce((a, v) => a + v * v, 0));
    return q.map((v) => v / n);
  };
  let sum = 0;
  let count = 0;
  fs.forEach((f, b) => {
    const qs = map(f);
    const qt = map(ft[b]!);
    qs.forEach((v, i) => {
      sum += (v - qt[i]!) ** 2;
      count++;
    });
  });
  return sum / count;
}

const feats = () => ({
  s: [rand([2, 4, 4, 1], 1), rand([2, 4, 4, 2], 2), rand([2, 2, 2, 3], 3)] as tf.Tensor4D[],
  t: [rand([2, 4, 4, 1], 4), rand([2, 2, 2, 5], 5), rand([2, 2, 2, 4], 6)] as tf.Tensor4D[],
});

describe('at (Zagoruyko & Komodakis 2017)', () => {
  it('equals a loop over the stage outputs (stem excluded, larger map pooled), times beta', () => {
    const { s, t } = feats();
    const inst = at.create(ctxFor(at, s, t));
    const pooled = tf.avgPool(s[1]!, 2, 2, 'valid');
    const expected =
      atByLoop(pooled.arraySync() as number[][][][], t[1]!.arraySync() as number[][][][]) +
      atByLoop(s[2]!.arraySync() as number[][][][], t[2]!.arraySync() as number[][][][]);
    expect(value(inst.losses(stepIO(fwd(s), fwd(t))).at!)).toBeCloseTo(1000 * expected, 3);
    pooled.dispose();
  });

  it('is zero for identical features and for features differing by a scale', () => {
    const { s } = feats();
    const inst = at.create(ctxFor(at, s, s));
    expect(value(inst.losses(stepIO(fwd(s), fwd(s))).at!)).toBeCloseTo(0, 6);
    expect(value(inst.losses(stepIO(fwd(s), fwd(s.map((f) => tf.mul(f, -2) as tf.Tensor4D)))).at!)).toBeCloseTo(0, 4);
  });

  it('sends finite gradients to the student features (also all-zero ones) and leaks nothing', () => {
    const { s, t } = feats();
    const inst = at.create(ctxFor(at, s, t));
    for (const f0 of [s[2]!, tf.zeros([2, 2, 2, 3]) as tf.Tensor4D]) {
      const g = tf.grad((f: tf.Tensor) => inst.losses(stepIO(fwd([s[0]!, s[1]!, f as tf.Tensor4D]), fwd(t))).at!)(f0);
      expect(Array.from(g.dataSync()).every(Number.isFinite)).toBe(true);
      g.dispose();
    }
    const g = tf.grad((f: tf.Tensor) => inst.losses(stepIO(fwd([s[0]!, s[1]!, f as tf.Tensor4D]), fwd(t))).at!)(s[2]!);
    expect(Array.from(g.dataSync()).some((v) => v !== 0)).toBe(true);
    g.dispose();
    expect(leakOf(() => inst.losses(stepIO(fwd(s), fwd(t))))).toBe(0);
  });

  it('has the CRD defaults and complete metadata', () => {
    expect(at.defaults).toEqual({ gamma: 1, beta: 1000, p: 2 });
    expect(at.paper?.url).toContain('1612.03928');
    expect([at.family, at.knowledge, at.scheme, at.teacher]).toEqual(['attention', 'feature', 'offline', 'required']);
    expect(Object.keys(at.hyperDocs).sort()).toEqual(Object.keys(at.defaults).sort());
  });

  it('runs on real resnet8 / resnet8x4 features', () => {
    const out = runOnRealModels(at);
    expect(Object.keys(out).sort()).toEqual(['at', 'ce']);
    for (const v of Object.values(out)) expect(Number.isFinite(v)).toBe(true);
  });
});
