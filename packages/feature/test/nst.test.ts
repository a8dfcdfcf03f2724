import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@kdbench/engine';
import { nst } from '../src/nst.js';
import { ctxFor, fwd, leakOf, rand, runOnRealModels, stepIO, value } from '@kdbench/core/testing';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** MMD^2 with k(x, y) = (x.y)^2 over spatially normalised channel vectors, by plain loops. */
function mmdByLoop(fs: number[][][][], ft: number[][][][]): number {
  const chans = (f: number[][][]) => {
    const c = f[0]![0]!.length;
    return Array.from({ length: c }, (_, k) => {
      const v = f.flatMap((row) => row.map((px) => px[k]!));
      const n = Math.sqrt(v.reduce((a, x) => a + x * x, 0));
      return v.map((x) => x / n);
    });
  };
  const k = (a: number[][], b: number[][]) => {
    let s = 0;
    for (const x of a) for (const y of b) s += x.reduce((acc, xi, i) => acc + xi * y[i]!, 0) ** 2;
    return s / (a.length * b.length);
  };
  let total = 0;
  for (let b = 0; b < fs.length; b++) {
    const s = chans(fs[b]!);
    const t = chans(ft[b]!);
    total += k(s, s) + k(t, t) - 2 * k(s, t);
  }
  return total / fs.length;
}

const feats = () => ({
  s: [rand([2, 4, 4, 1], 1), rand([2, 4, 4, 2], 2), rand([2, 2, 2, 3], 3)] as tf.Tensor4D[],
  t: [rand([2, 4, 4, 1], 4), rand([2, 2, 2, 3], 5), rand([2, 2, 2, 4], 6)] as tf.Tensor4D[],
});

describe('nst (Huang & Wang 2017)', () => {
  it('equals a loop computation of the polynomial MMD summed over stages (larger map pooled)', () => {
    const { s, t } = feats();
    const inst = nst.create(ctxFor(nst, s, t, { beta: 1 }));
    const pooled = tf.avgPool(s[1]!, 2, 2, 'valid'); // stage1: 4x4 student vs 2x2 teacher
    const expected =
      mmdByLoop(pooled.arraySync() as number[][][][], t[1]!.arraySync() as number[][][][]) +
      mmdByLoop(s[2]!.arraySync() as number[][][][], t[2]!.arraySync() as number[][][][]);
    expect(value(inst.losses(stepIO(fwd(s), fwd(t))).nst!)).toBeCloseTo(expected, 5);
    pooled.dispose();
  });

  it('is zero for identical features and scale-invariant per channel', () => {
    const { s } = feats();
    const inst = nst.create(ctxFor(nst, s, s));
    const scaled = s.map((f) => tf.mul(f, 3) as tf.Tensor4D);
    expect(value(inst.losses(stepIO(fwd(s), fwd(scaled))).nst!)).toBeCloseTo(0, 4);
  });

  it('sends finite gradients to the student features (dead channels included) and leaks nothing', () => {
    const { s, t } = feats();
    const inst = nst.create(ctxFor(nst, s, t));
    const dead = tf.concat([tf.zeros([2, 2, 2, 1]), s[2]!.slice([0, 0, 0, 1], [2, 2, 2, 2])], 3) as tf.Tensor4D;
    const g = tf.grad((f: tf.Tensor) => inst.losses(stepIO(fwd([s[0]!, s[1]!, f as tf.Tensor4D]), fwd(t))).nst!)(dead);
    const gv = Array.from(g.dataSync());
    expect(gv.every(Number.isFinite)).toBe(true);
    expect(gv.some((v) => v !== 0)).toBe(true);
    expect(leakOf(() => inst.losses(stepIO(fwd(s), fwd(t))))).toBe(0);
  });

  it('has the CRD defaults and complete metadata', () => {
    expect(nst.defaults).toEqual({ gamma: 1, beta: 50 });
    expect(nst.paper?.url).toContain('1707.01219');
    expect([nst.family, nst.knowledge, nst.scheme, nst.teacher]).toEqual(['feature', 'feature', 'offline', 'required']);
    expect(Object.keys(nst.hyperDocs).sort()).toEqual(Object.keys(nst.defaults).sort());
  });

  it('runs on real resnet8 / resnet8x4 features', () => {
    const out = runOnRealModels(nst);
    expect(Object.keys(out).sort()).toEqual(['ce', 'nst']);
    for (const v of Object.values(out)) expect(Number.isFinite(v)).toBe(true);
  });
});
