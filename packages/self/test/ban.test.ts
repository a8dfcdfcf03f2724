import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@kdbench/engine';
import { ban, bornAgainLoss, softmaxEnsembleView } from '../src/ban.js';
import { batch, expectGradients, leakOf, realContext, ref, stepIO, termValues, value } from './helpers.js';
import { stagesOf, metricsOf, disposeInstance } from '@kdbench/core/testing';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('ban (Furlanello et al. 2018)', () => {
  it('matches the teacher\'s plain softmax, adding the labels only for BAN+L (hand-computed)', () => {
    const s = tf.tensor2d([[1, 2, 0]]);
    const t = tf.tensor2d([[2, 0, 1]]);
    const y = tf.tensor1d([1], 'int32');
    // KL(softmax([2,0,1]) || softmax([1,2,0])) = 0.729908; CE(softmax([1,2,0]), 1) = 0.407606
    const plain = bornAgainLoss(s, t, y, 1, 0);
    expect(Object.keys(plain)).toEqual(['kd']);
    expect(value(plain.kd!)).toBeCloseTo(0.729908, 5);
    const withLabels = bornAgainLoss(s, t, y, 1, 1);
    expect(value(withLabels.ce!)).toBeCloseTo(0.407606, 5);
    tf.dispose([s, t, y]);
  });

  it('trains generation 0 on labels and each later generation (the student last) from its predecessor', () => {
    const { ctx, student } = realContext(ban, { generations: 2 }, { epochs: 3 });
    const inst = ban.create(ctx);
    expect(stagesOf(inst).map((s) => [s.name, s.epochs, s.schedule])).toEqual([['gen0', 3, true], ['gen1', 3, true]]);
    expect(Object.entries(inst.procedure!.networks!).map(([k, v]) => [k, v.trainInMain])).toEqual([['gen0', false], ['gen1', false]]);
    const [g0, g1] = [inst.procedure!.networks!.gen0!.model, inst.procedure!.networks!.gen1!.model];
    expect(stagesOf(inst)[1]!.evaluate).toBe(g1);
    const b = batch();
    const y = [1, 4, 1, 7];
    const t0 = termValues(() => stagesOf(inst)[0]!.losses(stepIO(student, b)));
    const t1 = termValues(() => stagesOf(inst)[1]!.losses(stepIO(student, b)));
    const tm = termValues(() => inst.losses(stepIO(student, b)));
    const [e0, e1, z0, z1, s] = tf.tidy(() => [
      g0.forward(b.x, { training: false }).logits, g1.forward(b.x, { training: false }).logits,
      g0.forward(b.x, { training: true }).logits, g1.forward(b.x, { training: true }).logits, student.forward(b.x, { training: true }).logits,
    ]).map(ref.rows);
    expect(t0.ce).toBeCloseTo(ref.mean(y.map((c, i) => ref.ce(z0![i]!, c))), 4);
    expect(t1.kd).toBeCloseTo(ref.mean(y.map((_, i) => ref.kl(ref.softmax(e0![i]!), ref.softmax(z1![i]!)))), 4);
    expect(tm.kd).toBeCloseTo(ref.mean(y.map((_, i) => ref.kl(ref.softmax(e1![i]!), ref.softmax(s![i]!)))), 4);
    expectGradients(() => stagesOf(inst)[1]!.losses(stepIO(student, b)), stagesOf(inst)[1]!.variables(), 'gen1 stage');
    expectGradients(() => inst.losses(stepIO(student, b)), student.trainableVariables(), 'main stage');
    // the previous generation is a fixed teacher
    tf.tidy(() => {
      const { grads } = tf.variableGrads(() => stagesOf(inst)[1]!.losses(stepIO(student, b)).kd!, g0.trainableVariables());
      expect(Object.values(grads).every((g) => tf.max(tf.abs(g)).dataSync()[0] === 0)).toBe(true);
    });
    expect(leakOf(inst, () => ({ ...stagesOf(inst)[1]!.losses(stepIO(student, b)), ...inst.losses(stepIO(student, b)) }))).toBe(0);
    const acc = metricsOf(inst, (m) => ({ top1: m === g0 ? 1 : m === g1 ? 2 : 3, top5: 0 }));
    expect(acc).toEqual({ gen0: 1, gen1: 2, ensemble: 3 });
    disposeInstance(inst);
    student.dispose();
    tf.dispose([b.x, b.labels]);
  });

  it('averages the generations\' softmax outputs in the ensemble view', () => {
    const { ctx, student } = realContext(ban, { generations: 1 });
    const inst = ban.create(ctx);
    const g0 = inst.procedure!.networks!.gen0!.model;
    const b = batch(5);
    const [ens, a, c] = tf.tidy(() => [
      tf.exp(softmaxEnsembleView('e', [g0, student]).forward(b.x, { training: false }).logits),
      tf.softmax(g0.forward(b.x, { training: false }).logits), tf.softmax(student.forward(b.x, { training: false }).logits),
    ]).map(ref.rows);
    ens!.forEach((row, i) => row.forEach((p, j) => expect(p).toBeCloseTo((a![i]![j]! + c![i]![j]!) / 2, 5)));
    disposeInstance(inst);
    student.dispose();
    tf.dispose([b.x, b.labels]);
  });

  it('rejects zero generations; defaults are the paper\'s BAN (teacher outputs only, T = 1)', () => {
    const { ctx, student } = realContext(ban, { generations: 0 });
    expect(() => ban.create(ctx)).toThrow(/generations must be an integer >= 1/);
    student.dispose();
    expect(ban.defaults).toEqual({ generations: 3, T: 1, gamma: 0 });
    expect(ban.smallHyper).toEqual({ generations: 2 });
    expect(ban.paper?.url).toContain('1805.04770');
  });
});
