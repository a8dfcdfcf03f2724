import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, tf } from '@kdbench/engine';
import { softTargetKL, stopGradient } from '@kdbench/core';
import { ClassPartners, cskd } from '../src/cskd.js';
import { batch, expectGradients, leakOf, realContext, ref, stepIO, termValues } from './helpers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('cskd (Yun et al. 2020)', () => {
  it('pairs each record with another record of its class, uniformly, itself only when alone', () => {
    const ids = Int32Array.from([10, 11, 12, 13, 14, 15]);
    const labels = Int32Array.from([0, 1, 0, 1, 2, 0]);
    const partners = new ClassPartners(ids, labels);
    // class 1 has rows 1 and 3: they pair with each other; class 2 has row 4 only
    expect(Array.from(partners.draw(Int32Array.from([11, 13, 14]), Int32Array.from([1, 1, 2]), new Rng(0)))).toEqual([3, 1, 4]);
    const rng = new Rng(1);
    const counts = new Map<number, number>();
    for (let i = 0; i < 400; i++) {
      const row = partners.draw(Int32Array.from([10]), Int32Array.from([0]), rng)[0]!;
      counts.set(row, (counts.get(row) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual([2, 5]); // never itself (row 0)
    expect(Math.abs(counts.get(2)! - 200)).toBeLessThan(40);
    expect(() => partners.draw(Int32Array.from([99]), Int32Array.from([0]), rng)).toThrow(/not in the training split/);
  });

  it('serves the same partners for the same epoch (a resumed run repeats them), others for the next', () => {
    const draw = (epoch: number) => {
      const { ctx, student } = realContext(cskd, {}, { n: 40 });
      const inst = cskd.create(ctx);
      const rows = inst.procedure!.companions!(Int32Array.from([0, 1, 2, 3, 4]), Int32Array.from([0, 1, 2, 3, 4]), epoch) as Int32Array;
      student.dispose();
      return Array.from(rows);
    };
    const a = draw(0);
    expect(a.every((r, i) => r % 10 === i && r !== i)).toBe(true); // same class (label = id % 10), not itself
    expect(draw(0)).toEqual(a);
    expect(draw(1)).not.toEqual(a);
  });

  it('adds lambda * T^2 * KL from the partner\'s fixed prediction to the CE, as a loop computes it', () => {
    const { ctx, student } = realContext(cskd);
    const inst = cskd.create(ctx);
    const b = batch();
    const partner = batch(9);
    const companion = { x: partner.x, labels: b.labels, ids: Int32Array.from([4, 5, 6, 7]) };
    const t = termValues(() => inst.losses(stepIO(student, b, { companion })));
    const [s, p] = tf.tidy(() => [student.forward(b.x, { training: true }).logits, student.forward(partner.x, { training: true }).logits]).map(ref.rows);
    const y = [1, 4, 1, 7];
    expect(t.ce).toBeCloseTo(ref.mean(y.map((c, i) => ref.ce(s![i]!, c))), 4);
    expect(t.cls).toBeCloseTo(16 * ref.mean(y.map((_, i) => ref.kl(ref.softmax(p![i]!, 4), ref.softmax(s![i]!, 4)))), 4);
    // the partner's prediction is a constant: the KL's gradient equals the one against precomputed partner logits
    const v = student.trainableVariables()[0]!;
    const g = (f: () => tf.Scalar) => tf.tidy(() => Array.from(tf.variableGrads(f, [v]).grads[v.name]!.dataSync()));
    const viaMethod = g(() => inst.losses(stepIO(student, b, { companion })).cls!);
    const fixed = tf.tensor2d(p!);
    const viaConstant = g(() => softTargetKL(student.forward(b.x, { training: true }).logits, stopGradient(fixed), 4));
    viaMethod.forEach((x, i) => expect(x).toBeCloseTo(viaConstant[i]!, 5));
    expectGradients(() => inst.losses(stepIO(student, b, { companion })), student.trainableVariables(), 'cskd');
    expect(leakOf(inst, () => inst.losses(stepIO(student, b, { companion })))).toBe(0);
    expect(() => inst.losses(stepIO(student, b))).toThrow(/no companions/);
    student.dispose();
    tf.dispose([b.x, b.labels, partner.x, partner.labels, fixed]);
  });

  it('has the paper\'s CIFAR weights and cites it', () => {
    expect(cskd.defaults).toEqual({ lambda: 1, T: 4 });
    expect(cskd.paper?.url).toContain('2003.13964');
  });
});
