import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@kdbench/engine';
import { vid } from '../src/vid.js';
import { ctxFor, fwd, leakOf, rand, runOnRealModels, stepIO, value, varsOf, disposeInstance } from '@kdbench/core/testing';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const feats = () => ({
  s: [rand([2, 2, 2, 1], 1), rand([2, 2, 2, 2], 2)] as tf.Tensor4D[],
  t: [rand([2, 2, 2, 1], 4), rand([2, 2, 2, 3], 5)] as tf.Tensor4D[],
});

describe('vid (Ahn 2019)', () => {
  it('equals a loop over 1x1-conv regressor, softplus variance and Gaussian NLL; initial variance 5', () => {
    const { s, t } = feats();
    const inst = vid.create(ctxFor(vid, s, t));
    const [w1, w2, w3, alpha] = varsOf(inst, 'regressors').map((v) => Array.from(v.dataSync()));
    const variance = alpha!.map((a) => Math.log(1 + Math.exp(a)) + 1e-5);
    variance.forEach((v) => expect(v).toBeCloseTo(5, 4));
    const mat = (x: number[], w: number[], cin: number, cout: number) =>
      Array.from({ length: cout }, (_, o) => x.reduce((acc, xi, i) => acc + xi * w[i * cout + o]!, 0));
    const sv = Array.from(s[1]!.dataSync());
    const tv = Array.from(t[1]!.dataSync());
    let nll = 0;
    for (let p = 0; p < 8; p++) {
      const h1 = mat(sv.slice(p * 2, p * 2 + 2), w1!, 2, 3).map((v) => Math.max(0, v));
      const h2 = mat(h1, w2!, 3, 3).map((v) => Math.max(0, v));
      const mu = mat(h2, w3!, 3, 3);
      mu.forEach((m, c) => (nll += 0.5 * ((m - tv[p * 3 + c]!) ** 2 / variance[c]! + Math.log(variance[c]!))));
    }
    expect(value(inst.losses(stepIO(fwd(s), fwd(t))).vid!)).toBeCloseTo(nll / 24, 5);
  });

  it('sends gradients to the regressor, the variances and the student feature; leaks nothing', () => {
    const { s, t } = feats();
    const inst = vid.create(ctxFor(vid, s, t));
    const vars = varsOf(inst, 'regressors');
    const { grads } = tf.variableGrads(() => inst.losses(stepIO(fwd(s), fwd(t))).vid!, vars);
    expect(Object.keys(grads)).toHaveLength(4);
    tf.dispose(Object.values(grads));
    const g = tf.grad((f: tf.Tensor) => inst.losses(stepIO(fwd([s[0]!, f as tf.Tensor4D]), fwd(t))).vid!)(s[1]!);
    expect(Array.from(g.dataSync()).some((v) => v !== 0)).toBe(true);
    g.dispose();
    expect(leakOf(() => inst.losses(stepIO(fwd(s), fwd(t))))).toBe(0);
    disposeInstance(inst);
  });

  it('has the CRD defaults and complete metadata', () => {
    expect(vid.defaults).toEqual({ gamma: 1, beta: 1, initVariance: 5, eps: 1e-5 });
    expect(vid.paper?.url).toContain('1904.05835');
    expect([vid.family, vid.knowledge, vid.scheme, vid.teacher]).toEqual(['feature', 'feature', 'offline', 'required']);
    expect(Object.keys(vid.hyperDocs).sort()).toEqual(Object.keys(vid.defaults).sort());
  });

  it('runs on real resnet8 / resnet8x4 features', () => {
    const out = runOnRealModels(vid);
    expect(Object.keys(out).sort()).toEqual(['ce', 'vid']);
    for (const v of Object.values(out)) expect(Number.isFinite(v)).toBe(true);
  });
});
