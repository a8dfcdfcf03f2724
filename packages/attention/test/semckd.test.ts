import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@kdbench/engine';
import type { ConvStack, MLPEmbed, ModuleGroup } from '@kdbench/core';
import { semckd } from '../src/semckd.js';
import { ctxFor, fwd, leakOf, rand, runOnRealModels, stepIO, value, varsOf, disposeInstance } from '@kdbench/core/testing';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// two student stages (4x4, 2x2), two teacher stages (2x2, 2x2); batch 2, training batch size (ctx.batchSize) 4
const feats = () => ({
  s: [rand([2, 4, 4, 1], 1), rand([2, 4, 4, 2], 2), rand([2, 2, 2, 3], 3)] as tf.Tensor4D[],
  t: [rand([2, 4, 4, 1], 4), rand([2, 2, 2, 2], 5), rand([2, 2, 2, 4], 6)] as tf.Tensor4D[],
});
const HP = { factor: 2, beta: 1 };
const BATCH = 4;

describe('semckd (Chen 2021)', () => {
  it('combines per-pair MSEs with the softmax attention of query/key embeddings, as a plain loop does', () => {
    const { s, t } = feats();
    const inst = semckd.create(ctxFor(semckd, s, t, HP, 240, BATCH));
    const group = inst.parts!.semckd as ModuleGroup;
    const [q0, q1, k0, k1, ...proj] = group.members as [MLPEmbed, MLPEmbed, MLPEmbed, MLPEmbed, ...ConvStack[]];
    const fs = [s[1]!, s[2]!];
    const ft = [t[1]!, t[2]!];
    // the module outputs, then everything else by loops on arrays
    const sim = (f: tf.Tensor4D) => tf.tidy(() => {
      const x = tf.reshape(f, [2, -1]);
      return tf.pad(tf.matMul(x, x, false, true), [[0, 0], [0, 2]]);
    });
    const q = [q0.apply(sim(fs[0]!)), q1.apply(sim(fs[1]!))].map((e) => e.arraySync() as number[][]);
    const k = [k0.apply(sim(ft[0]!)), k1.apply(sim(ft[1]!))].map((e) => e.arraySync() as number[][]);
    const input = [tf.avgPool(fs[0]!, 2, 2, 'valid'), fs[1]!]; // student 4x4 -> teacher 2x2
    let total = 0;
    for (let b = 0; b < 2; b++) {
      for (let i = 0; i < 2; i++) {
        const energy = [0, 1].map((j) => q[i]![b]!.reduce((a, v, d) => a + v * k[j]![b]![d]!, 0));
        const z = energy.map(Math.exp);
        const att = z.map((v) => v / (z[0]! + z[1]!));
        for (let j = 0; j < 2; j++) {
          const pred = proj[i * 2 + j]!.apply(input[i]!).arraySync() as number[][][][];
          const tgt = ft[j]!.arraySync() as number[][][][];
          const d = pred[b]!.flat(2).map((v, n) => (v - tgt[b]!.flat(2)[n]!) ** 2);
          total += att[j]! * (d.reduce((a, v) => a + v, 0) / d.length);
        }
      }
    }
    // BN in training mode uses batch statistics, so the loop's projections match the method's
    expect(value(inst.losses(stepIO(fwd(s), fwd(t))).semckd!)).toBeCloseTo(total / (2 * 2), 4);
    disposeInstance(inst);
  });

  it('sends gradients to queries, keys, projections and the student features; leaks nothing; rejects oversize batches', () => {
    const { s, t } = feats();
    const inst = semckd.create(ctxFor(semckd, s, t, HP, 240, BATCH));
    const vars = varsOf(inst, 'semckd');
    const { grads } = tf.variableGrads(() => inst.losses(stepIO(fwd(s), fwd(t))).semckd!, vars);
    expect(Object.keys(grads).length).toBe(vars.length);
    tf.dispose(Object.values(grads));
    const g = tf.grad((f: tf.Tensor) => inst.losses(stepIO(fwd([s[0]!, f as tf.Tensor4D, s[2]!]), fwd(t))).semckd!)(s[1]!);
    expect(Array.from(g.dataSync()).some((v) => v !== 0)).toBe(true);
    g.dispose();
    expect(leakOf(() => inst.losses(stepIO(fwd(s), fwd(t))))).toBe(0);
    const small = semckd.create(ctxFor(semckd, s, t, {}, 240, 1));
    expect(() => small.losses(stepIO(fwd(s), fwd(t)))).toThrow(/batch of 2 exceeds the training batch size \(1\)/);
    disposeInstance(inst);
    disposeInstance(small);
  });

  it('sizes the query/key embeddings from ctx.batchSize (input width B, output B / factor); a full batch is not padded', () => {
    const { s, t } = feats();
    for (const [batch, factor] of [[2, 1], [8, 4]] as const) {
      const inst = semckd.create(ctxFor(semckd, s, t, { factor }, 240, batch));
      const [query] = (inst.parts!.semckd as ModuleGroup).members as MLPEmbed[];
      const shapes = query!.trainableVariables().map((v) => v.shape);
      expect(shapes).toContainEqual([batch, 2 * (batch / factor)]);
      expect(shapes).toContainEqual([2 * (batch / factor), batch / factor]);
      expect(Number.isFinite(value(inst.losses(stepIO(fwd(s), fwd(t))).semckd!))).toBe(true);
      disposeInstance(inst);
    }
  });

  it('has the published defaults (CE 1, KD 1 at T=4, beta 400) and complete metadata', () => {
    expect(semckd.defaults).toEqual({ gamma: 1, alpha: 1, T: 4, beta: 400, factor: 4 });
    expect(semckd.paper?.url).toContain('2012.03236');
    expect([semckd.family, semckd.knowledge, semckd.scheme, semckd.teacher]).toEqual(['attention', 'feature', 'offline', 'required']);
    expect(Object.keys(semckd.hyperDocs).sort()).toEqual(Object.keys(semckd.defaults).sort());
  });

  it('runs on real resnet8 / resnet8x4 features (final batch shorter than the training batch size)', () => {
    const out = runOnRealModels(semckd, {}, 4);
    expect(Object.keys(out).sort()).toEqual(['ce', 'kd', 'semckd']);
    for (const v of Object.values(out)) expect(Number.isFinite(v)).toBe(true);
  });
});
