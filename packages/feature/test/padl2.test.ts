import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@kdbench/engine';
import { ctxFor, disposeInstance, fwd, leakOf, runOnRealModels, shapesOf, stagesOf, stepIO, value, varsOf } from '@kdbench/core/testing';
import { padL2Loss, padl2 } from '../src/padl2.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('padL2Loss', () => {
  it('equals the hand-computed value: (f_t - f_s)^2 / exp(v) + v, averaged over dimensions and batch', () => {
    // sample 1: f_s = (1, 2), f_t = (0, 0), v = (0, ln 2): (1/1 + 0 + 4/2 + ln 2) / 2 = (3 + 0.693147) / 2 = 1.846574
    // sample 2: f_s = (0, 1), f_t = (1, 1), v = (ln 0.5, 0): (1/0.5 + ln 0.5 + 0 + 0) / 2 = (2 - 0.693147) / 2 = 0.653426
    // mean = 1.25
    const fs = tf.tensor2d([[1, 2], [0, 1]]);
    const ft = tf.tensor2d([[0, 0], [1, 1]]);
    const v = tf.tensor2d([[0, Math.log(2)], [Math.log(0.5), 0]]);
    expect(value(padL2Loss(fs, ft, v, 0))).toBeCloseTo(1.25, 6);
    expect(value(padL2Loss(fs, ft, v, 1e-6))).toBeCloseTo(1.25, 5);
    // v = 0: the MSE, (1 + 4 + 1 + 0) / 4 = 1.5
    expect(value(padL2Loss(fs, ft, tf.zerosLike(v) as tf.Tensor2D, 0))).toBeCloseTo(1.5, 6);
    tf.dispose([fs, ft, v]);
  });

  it('has zero gradient in v where exp(v) equals the squared error, and pulls f_s towards f_t', () => {
    // d/dv [d^2 e^-v + v] = 1 - d^2 e^-v = 0 at e^v = d^2: d = 2 -> v = ln 4
    const fs = tf.tensor2d([[2]]);
    const ft = tf.tensor2d([[0]]);
    const gv = tf.grad((v: tf.Tensor) => padL2Loss(fs, ft, v as tf.Tensor2D, 0))(tf.tensor2d([[Math.log(4)]]));
    expect(gv.dataSync()[0]).toBeCloseTo(0, 6);
    // d/df_s [(f_t - f_s)^2 e^-v] = 2 (f_s - f_t) e^-v = 2 * 2 / 4 = 1 at v = ln 4
    const gs = tf.grad((x: tf.Tensor) => padL2Loss(x as tf.Tensor2D, ft, tf.tensor2d([[Math.log(4)]]), 0))(fs);
    expect(gs.dataSync()[0]).toBeCloseTo(1, 6);
    tf.dispose([fs, ft, gv, gs]);
  });
});

/** A forward result with the given pooled embedding. */
const withEmbedding = (emb: tf.Tensor2D, logits?: tf.Tensor2D) => ({ ...fwd([tf.zeros([2, 1, 1, 1]) as tf.Tensor4D], logits), embedding: emb });
function setUp(teacherDim: number, over: Partial<typeof padl2.defaults> = {}) {
  const f = [tf.zeros([2, 1, 1, 1]) as tf.Tensor4D];
  const studentVar = tf.variable(tf.zeros([1]));
  const base = ctxFor(padl2, f, f, over, 12);
  const ctx = {
    ...base,
    student: { trainableVariables: () => [studentVar] } as never,
    teacherShapes: [...shapesOf(f), { name: 'embedding', channels: teacherDim, height: 1, width: 1 }],
  };
  const inst = padl2.create(ctx);
  return { inst, studentVar, done: () => { disposeInstance(inst); tf.dispose([studentVar, ...f]); } };
}

describe('padl2 (Zhang et al. 2020)', () => {
  it('stage 1 is CE + 15 MSE over the protocol schedule; the main stage CE + PAD-L2 at 1% of the base rate', () => {
    const { inst, studentVar, done } = setUp(2);
    const fs = tf.tensor2d([[1, 2], [0, 1]]);
    const ft = tf.tensor2d([[0, 0], [1, 1]]);
    const io = stepIO(withEmbedding(fs), withEmbedding(ft));
    const [stage] = stagesOf(inst);
    expect([stage!.name, stage!.epochs, stage!.schedule]).toEqual(['l2', 12, true]);
    expect(stage!.variables()).toEqual([studentVar]); // equal widths: no connector
    const s1 = stage!.losses(io);
    // CE of zero logits over 3 classes = ln 3; MSE = (1 + 4 + 1 + 0) / 4 = 1.5, x 15 = 22.5
    expect(value(s1.ce!)).toBeCloseTo(Math.log(3), 6);
    expect(value(s1.l2!)).toBeCloseTo(22.5, 5);
    expect(inst.procedure!.main!.schedule).toBeTypeOf('function');
    expect((inst.procedure!.main!.schedule as (b: number, e: number, n: number) => number)(0.05, 3, 12)).toBeCloseTo(0.0005, 10);
    // the variance branch: linear then batch norm (training mode); with the linear at zero the batch norm
    // outputs its shift beta for every row: set beta = ln 2, so v = ln 2 everywhere and
    // PAD-L2 = 1.5 / (2 + 1e-6) + ln 2 = 0.75 + 0.693147 = 1.443147
    const [w, b, gamma, beta] = varsOf(inst, 'varianceBranch');
    expect(gamma!.shape).toEqual([2]);
    w!.assign(tf.zerosLike(w!));
    b!.assign(tf.zerosLike(b!));
    beta!.assign(tf.fill([2], Math.log(2)));
    const main = inst.losses(io);
    expect(Object.keys(main)).toEqual(['ce', 'pad']);
    expect(value(main.pad!)).toBeCloseTo(1.443147, 5);
    tf.dispose([fs, ft]);
    done();
  });

  it('adds a linear connector when the widths differ; gradients reach the student, connector and variance branch', () => {
    const { inst, studentVar, done } = setUp(3);
    const connector = varsOf(inst, 'connector');
    expect(connector.map((v) => v.shape)).toEqual([[2, 3], [3]]);
    expect(stagesOf(inst)[0]!.variables()).toEqual([studentVar, ...connector]);
    const fs = tf.tensor2d([[1, 2], [0, 1]]);
    const ft = tf.tensor2d([[0, 0, 1], [1, 1, -1]]);
    const io = (emb: tf.Tensor2D) => stepIO(withEmbedding(emb), withEmbedding(ft));
    const parts = [...connector, ...varsOf(inst, 'varianceBranch')];
    const { grads } = tf.variableGrads(() => inst.losses(io(fs)).pad!, parts);
    expect(parts.every((v) => grads[v.name]!.dataSync().some((g) => g !== 0))).toBe(true);
    tf.dispose(Object.values(grads));
    const gs = tf.grad((x: tf.Tensor) => inst.losses(io(x as tf.Tensor2D)).pad!)(fs);
    expect(Array.from(gs.dataSync()).some((g) => g !== 0)).toBe(true);
    const g1 = tf.grad((x: tf.Tensor) => stagesOf(inst)[0]!.losses(io(x as tf.Tensor2D)).l2!)(fs);
    expect(Array.from(g1.dataSync()).some((g) => g !== 0)).toBe(true);
    expect(leakOf(() => inst.losses(io(fs)))).toBe(0);
    expect(leakOf(() => stagesOf(inst)[0]!.losses(io(fs)))).toBe(0);
    // same seed, same modules, same loss
    const again = setUp(3);
    expect(value(again.inst.losses(io(fs)).pad!)).toBe(value(inst.losses(io(fs)).pad!));
    again.done();
    tf.dispose([fs, ft, gs, g1]);
    done();
  });

  it('refuses bad hyperparameters in one clear line', () => {
    expect(() => setUp(2, { eps: 0 })).toThrow(/padl2: eps must be a positive number, got 0/);
    expect(() => setUp(2, { fineTuneLr: -1 })).toThrow(/padl2: fineTuneLr must be a positive number/);
    expect(() => setUp(2, { l2: NaN })).toThrow(/padl2: l2 must be a non-negative number, got NaN/);
  });

  it('has its defaults and paper', () => {
    expect(padl2.defaults).toEqual({ gamma: 1, l2: 15, pad: 1, eps: 1e-6, fineTuneLr: 0.01 });
    expect(padl2.paper?.url).toContain('2008.01458');
    expect([padl2.family, padl2.knowledge, padl2.scheme, padl2.teacher]).toEqual(['feature', 'feature', 'offline', 'required']);
  });

  it('runs on real resnet8 / resnet8x4 features (embedding widths 16 and 64: connector)', () => {
    const out = runOnRealModels(padl2);
    expect(Object.keys(out).sort()).toEqual(['ce', 'l2/ce', 'l2/l2', 'pad']);
    for (const v of Object.values(out)) expect(Number.isFinite(v)).toBe(true);
  });
});
