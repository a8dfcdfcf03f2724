import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@kdbench/engine';
import { ft, paraphraserRate, factorLoss } from '../src/ft.js';
import { ctxFor, fwd, leakOf, rand, runOnRealModels, stepIO, value, varsOf, stagesOf, disposeInstance } from '@kdbench/core/testing';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const feats = () => ({
  s: [rand([2, 4, 4, 1], 1), rand([2, 4, 4, 2], 2), rand([2, 2, 2, 3], 3)] as tf.Tensor4D[],
  t: [rand([2, 4, 4, 1], 4), rand([2, 2, 2, 3], 5), rand([2, 2, 2, 4], 6)] as tf.Tensor4D[],
});

describe('ft (Kim 2018)', () => {
  it("paper form: mean |F_s/||F_s|| - F_t/||F_t|||, by a loop; zero for proportional factors", () => {
    const a = rand([2, 2, 2, 3], 7) as tf.Tensor4D;
    const b = rand([2, 2, 2, 3], 8) as tf.Tensor4D;
    const av = Array.from(a.dataSync());
    const bv = Array.from(b.dataSync());
    let sum = 0;
    for (let i = 0; i < 2; i++) {
      const x = av.slice(i * 12, (i + 1) * 12);
      const y = bv.slice(i * 12, (i + 1) * 12);
      const nx = Math.hypot(...x);
      const ny = Math.hypot(...y);
      x.forEach((xi, j) => (sum += Math.abs(xi / nx - y[j]! / ny)));
    }
    expect(value(factorLoss(a, b, 'paper'))).toBeCloseTo(sum / 24, 6);
    expect(value(factorLoss(a, tf.mul(a, 2.5) as tf.Tensor4D, 'paper'))).toBeCloseTo(0, 6);
  });

  it('repdistiller form (default): mean |q_s - q_t| of normalised channel means of squares, by hand', () => {
    // one sample, 2 positions, 2 channels. s: position 0 (1, 1), position 1 (2, 0) -> mean_c s^2 = (1, 2),
    // normalised (1, 2)/sqrt(5). t: (3, 0), (0, 3) -> (4.5, 4.5) -> (1, 1)/sqrt(2).
    const s = tf.tensor4d([1, 1, 2, 0], [1, 1, 2, 2]);
    const t = tf.tensor4d([3, 0, 0, 3], [1, 1, 2, 2]);
    const q = [1 / Math.sqrt(5), 2 / Math.sqrt(5)];
    const expected = (Math.abs(q[0]! - 1 / Math.SQRT2) + Math.abs(q[1]! - 1 / Math.SQRT2)) / 2;
    expect(value(factorLoss(s, t))).toBeCloseTo(expected, 6);
    expect(value(factorLoss(s, t, 'repdistiller'))).toBeCloseTo(expected, 6);
    // a sign flip of a factor changes the paper form, not the repdistiller one (squares)
    expect(value(factorLoss(s, tf.neg(s) as tf.Tensor4D))).toBeCloseTo(0, 6);
    expect(value(factorLoss(s, tf.neg(s) as tf.Tensor4D, 'paper'))).toBeGreaterThan(0.5);
  });

  it('refuses an unknown form', () => {
    const { s, t } = feats();
    expect(() => ft.create(ctxFor(ft, s, t, { form: 'other' }))).toThrow(/ft: form must be one of repdistiller, paper/);
  });

  it('has a paraphraser stage of 30/240 of the run that optimises only the paraphraser', () => {
    const { s, t } = feats();
    const inst = ft.create(ctxFor(ft, s, t, {}, 24));
    expect(stagesOf(inst)).toHaveLength(1);
    const stage = stagesOf(inst)[0]!;
    expect(stage.epochs).toBe(3);
    const para = [...varsOf(inst, 'encoder'), ...varsOf(inst, 'decoder')];
    expect(stage.variables()).toEqual(para);
    const terms = stage.losses(stepIO(fwd(s), fwd(t)));
    expect(Object.keys(terms)).toEqual(['reconstruction']);
    const { grads } = tf.variableGrads(() => stage.losses(stepIO(fwd(s), fwd(t))).reconstruction!, para);
    expect(Object.keys(grads)).toHaveLength(para.length);
    tf.dispose(Object.values(grads));
    expect(stagesOf(ft.create(ctxFor(ft, s, t, {}, 2)))[0]!.epochs).toBe(1);
    disposeInstance(inst);
  });

  it("trains the paraphraser at RepDistiller's constant rate: 0.01 for its ResNet and WRN students, else the student's", () => {
    expect(paraphraserRate('resnet20', 0.05)).toBeCloseTo(0.01, 12);
    expect(paraphraserRate('wrn_16_2', 0.05)).toBeCloseTo(0.01, 12);
    expect(paraphraserRate('resnet8x4@0.5', 0.05)).toBeCloseTo(0.01, 12);
    expect(paraphraserRate('vgg8', 0.05)).toBe(0.05);
    expect(paraphraserRate('mobilenetv2', 0.01)).toBe(0.01); // the light students' own 0.01
    expect(paraphraserRate('resnet18', 0.05)).toBe(0.05); // not one of RepDistiller's CIFAR ResNets
    const { s, t } = feats();
    const ctx = ctxFor(ft, s, t, {}, 24);
    const inst = ft.create({ ...ctx, student: Object.assign(Object.create(ctx.student) as typeof ctx.student, { id: 'resnet20' }) });
    const schedule = stagesOf(inst)[0]!.schedule as (base: number, epoch: number, epochs: number) => number;
    expect([0, 1, 2].map((e) => schedule(0.05, e, 3))).toEqual([0.01, 0.01, 0.01].map((r) => expect.closeTo(r, 12)));
    disposeInstance(inst);
  });

  it('main stage: gradients reach the translator and the student feature, never the paraphraser; no leaks', () => {
    const { s, t } = feats();
    const inst = ft.create(ctxFor(ft, s, t));
    const [translator, encoder] = [varsOf(inst, 'translator'), varsOf(inst, 'encoder')];
    const vars = [...translator, ...encoder];
    const before = Array.from(encoder[0]!.dataSync());
    const { grads } = tf.variableGrads(() => inst.losses(stepIO(fwd(s), fwd(t))).ft!, vars);
    const names = new Set(Object.keys(grads));
    expect(translator.every((v) => names.has(v.name))).toBe(true);
    expect(encoder.some((v) => names.has(v.name))).toBe(false);
    tf.dispose(Object.values(grads));
    const gs = tf.grad((f: tf.Tensor) => inst.losses(stepIO(fwd([s[0]!, s[1]!, f as tf.Tensor4D]), fwd(t))).ft!)(s[2]!);
    expect(Array.from(gs.dataSync()).some((v) => v !== 0)).toBe(true);
    gs.dispose();
    expect(Array.from(encoder[0]!.dataSync())).toEqual(before);
    expect(leakOf(() => inst.losses(stepIO(fwd(s), fwd(t))))).toBe(0);
    disposeInstance(inst);
  });

  it('has the CRD defaults and complete metadata', () => {
    expect(ft.defaults).toEqual({ gamma: 1, beta: 200, k: 0.5, initEpochs: 30, form: 'repdistiller' });
    expect(ft.paper?.url).toContain('1802.04977');
    expect([ft.family, ft.knowledge, ft.scheme, ft.teacher]).toEqual(['feature', 'feature', 'offline', 'required']);
    expect(Object.keys(ft.hyperDocs).sort()).toEqual(Object.keys(ft.defaults).sort());
  });

  it('runs on real resnet8 / resnet8x4 features', () => {
    const out = runOnRealModels(ft);
    expect(Object.keys(out).sort()).toEqual(['ce', 'ft', 'ft-paraphraser/reconstruction']);
    for (const v of Object.values(out)) expect(Number.isFinite(v)).toBe(true);
  });
});
