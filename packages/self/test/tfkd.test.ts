import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@kdbench/engine';
import type { ForwardResult } from '@kdbench/models';
import { tfkdself } from '../src/tfkdself.js';
import { tfkdvirtual, virtualTeacher } from '../src/tfkdvirtual.js';
import { batch, expectGradients, leakOf, realContext, ref, stepIO, termValues } from './helpers.js';
import { stagesOf, metricsOf, disposeInstance } from '@kdbench/core/testing';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('tfkdvirtual (Yuan et al. 2020, Tf-KD_reg)', () => {
  it('builds the virtual teacher a / (1-a)/(K-1) and weighs CE and KL as computed by hand', () => {
    const y = tf.tensor1d([1], 'int32');
    expect(ref.rows(virtualTeacher(y, 3, 0.9))[0]!.map((v) => +v.toFixed(6))).toEqual([0.05, 0.9, 0.05]);
    const { ctx, student } = realContext(tfkdvirtual, { correct: 0.9, T: 2 });
    const inst = tfkdvirtual.create({ ...ctx, numClasses: 3 });
    const s = tf.tensor2d([[1, 2, 0]]);
    const io = { ...stepIO(student, { x: tf.zeros([1, 32, 32, 3]) as tf.Tensor4D, labels: y }), student: { logits: s } as ForwardResult };
    const t = termValues(() => inst.losses(io));
    // teacher softmax([0.05, 0.9, 0.05] / 2) = [0.283319, 0.433362, 0.283319];
    // CE(softmax([1,2,0]), 1) = 0.407606, KL(teacher || softmax([1,2,0])) = 0.180560;
    // alpha 0.1, multiplier 100 / 100: ce = 0.9 * 0.407606, virtual = 0.1 * 0.180560
    expect(t.ce).toBeCloseTo(0.366845, 5);
    expect(t.virtual).toBeCloseTo(0.018056, 5);
    expect(() => virtualTeacher(y, 3, 1)).toThrow(/in \(0, 1\)/);
    student.dispose();
    tf.dispose([y, s, io.x]);
  });

  it('trains the student only, with the authors\' ResNet18 configuration, and leaks nothing', () => {
    expect(tfkdvirtual.defaults).toEqual({ alpha: 0.1, T: 20, multiplier: 100, correct: 0.99 });
    const { ctx, student } = realContext(tfkdvirtual);
    const inst = tfkdvirtual.create(ctx);
    const b = batch();
    expectGradients(() => inst.losses(stepIO(student, b)), student.trainableVariables(), 'tfkdvirtual');
    expect(leakOf(inst, () => inst.losses(stepIO(student, b)))).toBe(0);
    student.dispose();
    tf.dispose([b.x, b.labels]);
  });
});

describe('tfkdself (Yuan et al. 2020, Tf-KD_self)', () => {
  it('first trains a self-teacher of the student\'s architecture with CE, then distils it into the student', () => {
    const { ctx, student } = realContext(tfkdself, {}, { epochs: 5 });
    const inst = tfkdself.create(ctx);
    const teacher = inst.procedure!.networks!.selfteacher!.model;
    expect(inst.procedure!.networks!.selfteacher!.trainInMain).toBe(false);
    expect(teacher.id).toBe(student.id);
    const stage = stagesOf(inst)[0]!;
    expect([stage.name, stage.epochs, stage.schedule, stage.evaluate]).toEqual(['selfteacher', 5, true, teacher]);
    const b = batch();
    const y = [1, 4, 1, 7];
    const st = termValues(() => stage.losses(stepIO(student, b)));
    const main = termValues(() => inst.losses(stepIO(student, b)));
    // eval pass first: a training pass moves the batch-norm running statistics the eval pass uses
    const [tEval, tTrain, s] = tf.tidy(() => [
      teacher.forward(b.x, { training: false }).logits, teacher.forward(b.x, { training: true }).logits, student.forward(b.x, { training: true }).logits,
    ]).map(ref.rows);
    expect(st.ce).toBeCloseTo(ref.mean(y.map((c, i) => ref.ce(tTrain![i]!, c))), 4);
    // (1 - 0.95) CE + 0.95 * 50/100 * 6^2 * KL(softmax(t/6) || softmax(s/6))
    expect(main.ce).toBeCloseTo(0.05 * ref.mean(y.map((c, i) => ref.ce(s![i]!, c))), 5);
    expect(main.kd).toBeCloseTo(0.475 * 36 * ref.mean(y.map((_, i) => ref.kl(ref.softmax(tEval![i]!, 6), ref.softmax(s![i]!, 6)))), 4);
    expectGradients(() => stage.losses(stepIO(student, b)), stage.variables(), 'self-teacher stage');
    expectGradients(() => inst.losses(stepIO(student, b)), student.trainableVariables(), 'main stage');
    tf.tidy(() => {
      const { grads } = tf.variableGrads(() => tf.addN(Object.values(inst.losses(stepIO(student, b)))) as tf.Scalar, teacher.trainableVariables());
      expect(Object.values(grads).every((g) => tf.max(tf.abs(g)).dataSync()[0] === 0)).toBe(true);
    });
    expect(leakOf(inst, () => ({ ...stage.losses(stepIO(student, b)), ...inst.losses(stepIO(student, b)) }))).toBe(0);
    expect(metricsOf(inst, (m) => ({ top1: m === teacher ? 42 : 0, top5: 0 }))).toEqual({ selfteacher: 42 });
    disposeInstance(inst);
    student.dispose();
    tf.dispose([b.x, b.labels]);
  });
});
