import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@kdbench/engine';
import { ConvReg } from '@kdbench/core';
import { fitnet } from '../src/fitnet.js';
import { ctxFor, disposeInstance, fwd, leakOf, rand, runOnRealModels, stepIO, value, varsOf } from '@kdbench/core/testing';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// [stem, stage1, stage2]: the hint is features[2]
const mk = (b: number, cs: number, ct: number) => ({
  s: [rand([b, 2, 2, 1], 1), rand([b, 2, 2, 1], 2), rand([b, 2, 2, cs], 3)] as tf.Tensor4D[],
  t: [rand([b, 2, 2, 1], 4), rand([b, 2, 2, 1], 5), rand([b, 2, 2, ct], 6)] as tf.Tensor4D[],
});

describe('fitnet (Romero 2015)', () => {
  it('equals a loop over 1x1 conv + batch-norm (batch statistics) + ReLU + MSE', () => {
    const { s, t } = mk(2, 2, 3);
    const inst = fitnet.create(ctxFor(fitnet, s, t, { beta: 1 }));
    const [w, bias, gamma, beta] = varsOf(inst, 'regressor').map((v) => Array.from(v.dataSync()));
    const fs = s[2]!.arraySync() as number[][][][];
    const ft = t[2]!.arraySync() as number[][][][];
    // conv: w is [1, 1, in=2, out=3]
    const y: number[][] = []; // [position, out]
    for (let b = 0; b < 2; b++) for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) {
      y.push([0, 1, 2].map((o) => bias![o]! + fs[b]![i]![j]![0]! * w![o]! + fs[b]![i]![j]![1]! * w![3 + o]!));
    }
    let sq = 0;
    for (let o = 0; o < 3; o++) {
      const col = y.map((r) => r[o]!);
      const mean = col.reduce((a, v) => a + v, 0) / col.length;
      const variance = col.reduce((a, v) => a + (v - mean) ** 2, 0) / col.length;
      col.forEach((v, p) => {
        const out = Math.max(0, ((v - mean) / Math.sqrt(variance + 1e-5)) * gamma![o]! + beta![o]!);
        const [b, i, j] = [Math.floor(p / 4), Math.floor((p % 4) / 2), p % 2];
        sq += (out - ft[b]![i]![j]![o]!) ** 2;
      });
    }
    const terms = inst.losses(stepIO(fwd(s), fwd(t)));
    expect(value(terms.hint!)).toBeCloseTo(sq / 24, 5);
    disposeInstance(inst);
  });

  it('sends gradients to the student hint feature and to every regressor variable, leaking nothing', () => {
    const { s, t } = mk(2, 2, 3);
    const inst = fitnet.create(ctxFor(fitnet, s, t));
    const { grads } = tf.variableGrads(() => inst.losses(stepIO(fwd(s), fwd(t))).hint!, varsOf(inst, 'regressor'));
    expect(Object.keys(grads)).toHaveLength(4);
    for (const g of Object.values(grads)) expect(Array.from(g.dataSync()).some((v) => v !== 0)).toBe(true);
    const gs = tf.grad((f: tf.Tensor) => inst.losses(stepIO(fwd([s[0]!, s[1]!, f as tf.Tensor4D]), fwd(t))).hint!)(s[2]!);
    expect(Array.from(gs.dataSync()).some((v) => v !== 0)).toBe(true);
    tf.dispose([...Object.values(grads), gs]);
    expect(leakOf(() => inst.losses(stepIO(fwd(s), fwd(t))))).toBe(0);
    disposeInstance(inst);
  });

  it('builds the CRD regressor for each size pair and rejects the others', () => {
    const sh = (h: number, c: number) => ({ name: 'x', height: h, width: h, channels: c });
    const cases: [number, number][] = [[8, 8], [16, 8], [4, 8], [8, 6]];
    for (const [hs, ht] of cases) {
      const reg = new ConvReg(sh(hs, 3), sh(ht, 5), 0);
      const y = tf.tidy(() => reg.apply(rand([2, hs, hs, 3], 9) as tf.Tensor4D));
      expect(y.shape).toEqual([2, ht, ht, 5]);
      y.dispose();
      reg.dispose();
    }
    expect(() => new ConvReg(sh(4, 3), sh(16, 5), 0)).toThrow(/no regressor/);
  });

  it('has the CRD defaults and complete metadata', () => {
    expect(fitnet.defaults).toEqual({ gamma: 1, beta: 100, hintLayer: 2 });
    expect(fitnet.paper?.url).toContain('1412.6550');
    expect([fitnet.family, fitnet.knowledge, fitnet.scheme, fitnet.teacher]).toEqual(['feature', 'feature', 'offline', 'required']);
    expect(Object.keys(fitnet.hyperDocs).sort()).toEqual(Object.keys(fitnet.defaults).sort());
  });

  it('runs on real resnet8 / resnet8x4 features', () => {
    const out = runOnRealModels(fitnet);
    expect(Object.keys(out).sort()).toEqual(['ce', 'hint']);
    for (const v of Object.values(out)) expect(Number.isFinite(v)).toBe(true);
  });
});
