import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, tf } from '@kdbench/engine';
import { createModel, type ForwardResult, type Model } from '@kdbench/models';
import type { MethodContext, StepIO } from '@kdbench/core';
import { dkd } from '../src/dkd.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const out = (logits: tf.Tensor2D) => ({ logits, features: [], embedding: logits }) as unknown as ForwardResult;
const ctx = (hp: typeof dkd.defaults, epochs = 240): MethodContext<typeof dkd.defaults, 'required'> => ({
  hp, dataset: 'cifar10', numClasses: 4, student: {} as Model, teacher: {} as Model, studentShapes: [], teacherShapes: [], trainSize: 1, trainIds: new Int32Array(1), trainLabels: new Int32Array(1),
  epochs, batchSize: 1, rng: new Rng(0), teachers: [], createNetwork: () => { throw new Error('unused'); }, probe: () => { throw new Error('unused'); },
});
const io = (s: tf.Tensor2D, t: tf.Tensor2D, y: tf.Tensor1D, epoch = 100, progress = 0): StepIO => ({
  x: s as never, labels: y, ids: new Int32Array(y.shape[0]), student: out(s), teacher: out(t), epoch, progress, step: 0, stage: 'main',
});

/** Straightforward DKD on plain arrays: softmaxes, binary split, renormalised non-target KL. */
function dkdByLoop(s: number[][], t: number[][], y: number[], T: number) {
  const softmax = (z: number[]) => {
    const e = z.map((v) => Math.exp(v / T));
    const sum = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / sum);
  };
  let tckd = 0;
  let nckd = 0;
  for (let i = 0; i < s.length; i++) {
    const ps = softmax(s[i]!);
    const pt = softmax(t[i]!);
    const g = y[i]!;
    const bs = [ps[g]!, 1 - ps[g]!];
    const bt = [pt[g]!, 1 - pt[g]!];
    for (let k = 0; k < 2; k++) tckd += bt[k]! * Math.log(bt[k]! / bs[k]!);
    for (let c = 0; c < ps.length; c++) {
      if (c === g) continue;
      const qs = ps[c]! / (1 - ps[g]!);
      const qt = pt[c]! / (1 - pt[g]!);
      nckd += qt * Math.log(qt / qs);
    }
  }
  return { tckd: (tckd * T * T) / s.length, nckd: (nckd * T * T) / s.length };
}

const S = [[1, 2, 0, -1], [0.5, -0.5, 2, 1]];
const Tl = [[2, 0, 1, 0.5], [-1, 0, 3, 0]];
const Y = [1, 2];

describe('dkd (Zhao 2022)', () => {
  it('returns CE, alpha*TCKD and beta*NCKD equal to a plain-loop computation', () => {
    const hp = { ce: 1, alpha: 1, beta: 8, T: 2, warmup: 20 };
    const inst = dkd.create(ctx(hp));
    const s = tf.tensor2d(S);
    const t = tf.tensor2d(Tl);
    const y = tf.tensor1d(Y, 'int32');
    const terms = inst.losses(io(s, t, y));
    const ref = dkdByLoop(S, Tl, Y, 2);
    let ce = 0;
    for (let i = 0; i < 2; i++) ce -= Math.log(Math.exp(S[i]![Y[i]!]!) / S[i]!.reduce((a, v) => a + Math.exp(v), 0));
    expect(terms.ce!.dataSync()[0]).toBeCloseTo(ce / 2, 5);
    expect(terms.tckd!.dataSync()[0]).toBeCloseTo(ref.tckd, 5);
    expect(terms.nckd!.dataSync()[0]).toBeCloseTo(8 * ref.nckd, 4);
    tf.dispose([s, t, y, ...Object.values(terms)]);
  });

  it('is zero for identical logits and warms up linearly, scaled to the run length', () => {
    const hp = { ...dkd.defaults };
    const s = tf.tensor2d(S);
    const y = tf.tensor1d(Y, 'int32');
    const same = dkd.create(ctx(hp)).losses(io(s, s, y));
    expect(same.tckd!.dataSync()[0]).toBeCloseTo(0, 6);
    expect(same.nckd!.dataSync()[0]).toBeCloseTo(0, 6);
    const t = tf.tensor2d(Tl);
    const inst = dkd.create(ctx(hp, 24)); // warm-up 20*24/240 = 2 epochs
    const full = inst.losses(io(s, t, y, 5, 0)).nckd!.dataSync()[0]!;
    const half = inst.losses(io(s, t, y, 0, 1)).nckd!.dataSync()[0]!;
    const quarter = inst.losses(io(s, t, y, 0, 0.5)).nckd!.dataSync()[0]!;
    expect(half).toBeCloseTo(full / 2, 5);
    expect(quarter).toBeCloseTo(full / 4, 5);
    tf.dispose([s, t, y, ...Object.values(same)]);
  });

  it('has finite gradients w.r.t. the student logits and leaks no tensors', () => {
    const inst = dkd.create(ctx({ ...dkd.defaults }));
    const s = tf.tensor2d(S);
    const t = tf.tensor2d(Tl);
    const y = tf.tensor1d(Y, 'int32');
    const g = tf.grad((x: tf.Tensor) => {
      const terms = inst.losses(io(x as tf.Tensor2D, t, y));
      return tf.addN(Object.values(terms));
    })(s);
    expect(Array.from(g.dataSync()).some((v) => Math.abs(v) > 1e-6)).toBe(true);
    expect(Array.from(g.dataSync()).every(Number.isFinite)).toBe(true);
    g.dispose();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) tf.tidy(() => { inst.losses(io(s, t, y)); });
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([s, t, y]);
  });

  it('has the paper defaults and complete metadata', () => {
    expect(dkd.defaults).toEqual({ ce: 1, alpha: 1, beta: 8, T: 4, warmup: 20 });
    expect(dkd.paper?.url).toContain('2203.08679');
    expect(dkd.family).toBe('response');
    expect(dkd.knowledge).toBe('response');
    expect(dkd.scheme).toBe('offline');
    expect(dkd.teacher).toBe('required');
    for (const k of Object.keys(dkd.defaults)) expect(dkd.hyperDocs[k as keyof typeof dkd.defaults]).toBeTruthy();
  });

  it('runs on real resnet8 logits from createModel', () => {
    const st = createModel('resnet8', { numClasses: 10, seed: 0, widthFactor: 0.25 });
    const te = createModel('resnet8', { numClasses: 10, seed: 1, widthFactor: 0.25 });
    const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 0) as tf.Tensor4D;
    const y = tf.tensor1d([3, 7], 'int32');
    tf.tidy(() => {
      const inst = dkd.create({ ...ctx({ ...dkd.defaults }), numClasses: 10, student: st, teacher: te, studentShapes: st.featureShapes(), teacherShapes: te.featureShapes() });
      const terms = inst.losses({ x, labels: y, ids: new Int32Array(2), student: st.forward(x, { training: true }), teacher: te.forward(x, { training: false }), epoch: 30, progress: 0, step: 0, stage: 'main' });
      for (const v of Object.values(terms)) expect(Number.isFinite(v.dataSync()[0])).toBe(true);
    });
    tf.dispose([x, y]);
    st.dispose();
    te.dispose();
  });
});
