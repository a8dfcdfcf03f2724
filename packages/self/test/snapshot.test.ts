import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@kdbench/engine';
import { copyWeights } from '../src/shared/copy.js';
import { cycleStarts, cyclicLearningRate, snapshot } from '../src/snapshot.js';
import { batch, expectGradients, leakOf, realContext, ref, stepIO, termValues } from './helpers.js';
import { metricsOf, epochStartOf, disposeInstance } from '@kdbench/core/testing';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('snapshot (Yang et al. 2019)', () => {
  it('splits the epochs into equal cycles and anneals the rate by a cosine within each (hand-computed)', () => {
    expect(cycleStarts(12, 4)).toEqual([0, 3, 6, 9]);
    expect(cycleStarts(10, 4)).toEqual([0, 3, 5, 8]); // round(2.5), round(5), round(7.5)
    expect(cycleStarts(2, 4)).toEqual([0, 1]); // capped at the epochs
    expect(() => cycleStarts(12, 0)).toThrow(/positive integer/);
    // 12 epochs, 4 cycles of 3: 0.1/2 * (1 + cos(pi * k/3)) for k = 0, 1, 2, then a restart
    const lrs = Array.from({ length: 7 }, (_, e) => cyclicLearningRate(0.1, e, 12, 4));
    [0.1, 0.075, 0.025, 0.1, 0.075, 0.025, 0.1].forEach((v, i) => expect(lrs[i]).toBeCloseTo(v, 10));
  });

  it('copies the student into the snapshot at cycle starts only, weights and batch-norm statistics', () => {
    const { ctx, student } = realContext(snapshot, {}, { epochs: 12 });
    const inst = snapshot.create(ctx);
    const teacher = inst.procedure!.networks!.snapshot!.model;
    expect(inst.procedure!.networks!.snapshot!.trainInMain).toBe(false);
    const b = batch();
    const same = () => tf.tidy(() => tf.max(tf.abs(tf.sub(student.forward(b.x, { training: false }).logits, teacher.forward(b.x, { training: false }).logits))).dataSync()[0]!);
    tf.tidy(() => { student.forward(b.x, { training: true }); }); // move the running statistics away from their initial values
    epochStartOf(inst, 0);
    epochStartOf(inst, 2);
    expect(same()).toBeGreaterThan(0);
    epochStartOf(inst, 3);
    expect(same()).toBe(0);
    const schedule = inst.procedure!.main!.schedule as (base: number, epoch: number, epochs: number) => number;
    expect(schedule(0.1, 4, 12)).toBeCloseTo(0.075, 10);
    disposeInstance(inst);
    student.dispose();
    tf.dispose([b.x, b.labels]);
  });

  it('trains on labels in the first cycle, then adds the KL to the smoothed snapshot, as a loop computes it', () => {
    const { ctx, student } = realContext(snapshot, {}, { epochs: 12 });
    const inst = snapshot.create(ctx);
    const teacher = inst.procedure!.networks!.snapshot!.model;
    const b = batch(1);
    const y = [1, 4, 1, 7];
    expect(Object.keys(termValues(() => inst.losses(stepIO(student, b, { epoch: 2 }))))).toEqual(['ce']);
    epochStartOf(inst, 3);
    const t = termValues(() => inst.losses(stepIO(student, b, { epoch: 3 })));
    const [tEval, s] = tf.tidy(() => [teacher.forward(b.x, { training: false }).logits, student.forward(b.x, { training: true }).logits]).map(ref.rows);
    // (1 + 1/3) CE + KL(softmax(t/3) || softmax(s))
    expect(t.ce).toBeCloseTo((4 / 3) * ref.mean(y.map((c, i) => ref.ce(s![i]!, c))), 4);
    expect(t.kd).toBeCloseTo(ref.mean(y.map((_, i) => ref.kl(ref.softmax(tEval![i]!, 3), ref.softmax(s![i]!)))), 4);
    const f = () => inst.losses(stepIO(student, b, { epoch: 5 }));
    expectGradients(f, student.trainableVariables(), 'snapshot');
    tf.tidy(() => {
      const { grads } = tf.variableGrads(() => f().kd!, teacher.trainableVariables());
      expect(Object.values(grads).every((g) => tf.max(tf.abs(g)).dataSync()[0] === 0)).toBe(true);
    });
    expect(leakOf(inst, f)).toBe(0);
    expect(metricsOf(inst, (m) => ({ top1: m === teacher ? 7 : 0, top5: 0 }))).toEqual({ snapshot: 7 });
    disposeInstance(inst);
    student.dispose();
    tf.dispose([b.x, b.labels]);
  });

  it('refuses to copy between different architectures', () => {
    const a = realContext(snapshot, {}, { student: 'resnet8' });
    const c = realContext(snapshot, {}, { student: 'resnet14' });
    expect(() => copyWeights(a.student, c.student)).toThrow(/copyWeights/);
    a.student.dispose();
    c.student.dispose();
    expect(snapshot.smallHyper).toEqual({ cycles: 2 });
  });
});
