import { beforeAll, describe, expect, it } from 'vitest';
import { methodContext, type StepIO } from '@kdbench/core';
import { Rng, tf } from '@kdbench/engine';
import { createModel, type ForwardResult } from '@kdbench/models';
import { takd } from '../src/takd.js';
import { stagesOf, metricsOf, disposeInstance } from '@kdbench/core/testing';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const rows = (t: tf.Tensor) => t.arraySync() as number[][];
const softmax = (z: number[], T: number) => {
  const e = z.map((v) => Math.exp(v / T));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};
const kl = (p: number[], q: number[]) => p.reduce((a, pi, i) => a + pi * Math.log(pi / q[i]!), 0);
const ce = (z: number[], y: number) => -Math.log(softmax(z, 1)[y]!);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
/** gamma * CE + alpha * T^2 * KL(softmax(t/T) || softmax(s/T)), averaged over rows, by loops. */
const kdRef = (s: number[][], t: number[][], y: number[]) => ({
  ce: 0.1 * mean(y.map((c, i) => ce(s[i]!, c))),
  kd: 0.9 * 16 * mean(y.map((_, i) => kl(softmax(t[i]!, 4), softmax(s[i]!, 4)))),
});

describe('takd (Mirzadeh et al. 2020)', () => {
  it('trains the assistant by KD from the teacher, then the student by KD from the assistant', () => {
    const student = createModel('resnet8', { numClasses: 10, seed: 0, widthFactor: 0.25 });
    const teacher = createModel('resnet20', { numClasses: 10, seed: 1, widthFactor: 0.25 });
    const ids = Int32Array.from({ length: 20 }, (_, i) => i);
    const ctx = methodContext({
      hp: takd.defaults, numClasses: 10, student, teacher, train: { images: new Uint8Array(0), ids, labels: ids.map((i) => i % 10), n: 20 },
      epochs: 6, batchSize: 4, rng: new Rng(0),
    });
    const inst = takd.create(ctx);
    const assistant = inst.procedure!.networks!.assistant!.model;
    expect([assistant.id, inst.procedure!.networks!.assistant!.trainInMain]).toEqual(['resnet14', false]);
    const stage = stagesOf(inst)[0]!;
    expect([stage.name, stage.epochs, stage.schedule, stage.evaluate]).toEqual(['assistant', 6, true, assistant]);
    const x = tf.randomNormal([4, 32, 32, 3], 0, 1, 'float32', 0) as tf.Tensor4D;
    const labels = tf.tensor1d([1, 4, 1, 7], 'int32');
    const y = [1, 4, 1, 7];
    const io = (withTeacher: boolean): StepIO => {
      let s: ForwardResult | undefined;
      return {
        x, labels, ids: new Int32Array(4), epoch: 0, progress: 0, step: 0, stage: 'main',
        get student() { return (s ??= student.forward(x, { training: true })); },
        teacher: withTeacher ? teacher.forward(x, { training: false }) : undefined,
      };
    };
    const values = (f: () => Record<string, tf.Scalar>) => tf.tidy(() => Object.fromEntries(Object.entries(f()).map(([k, v]) => [k, v.dataSync()[0]!])));
    const a = values(() => stage.losses(io(true)));
    const m = values(() => inst.losses(io(false)));
    const [t, aEval, aTrain, s] = tf.tidy(() => [
      teacher.forward(x, { training: false }).logits, assistant.forward(x, { training: false }).logits,
      assistant.forward(x, { training: true }).logits, student.forward(x, { training: true }).logits,
    ]).map(rows);
    const refA = kdRef(aTrain!, t!, y);
    const refM = kdRef(s!, aEval!, y);
    expect(a.ce).toBeCloseTo(refA.ce, 5);
    expect(a.kd).toBeCloseTo(refA.kd, 4);
    expect(m.ce).toBeCloseTo(refM.ce, 5);
    expect(m.kd).toBeCloseTo(refM.kd, 4);
    // gradients: the assistant stage moves the assistant, the main stage the student and not the assistant
    const maxGrad = (f: () => tf.Scalar, vars: tf.Variable[]) => tf.tidy(() => {
      const { grads } = tf.variableGrads(f, vars);
      return vars.map((v) => (grads[v.name] ? tf.max(tf.abs(grads[v.name]!)).dataSync()[0]! : 0));
    });
    const sum = (terms: Record<string, tf.Scalar>) => tf.addN(Object.values(terms)) as tf.Scalar;
    expect(maxGrad(() => sum(stage.losses(io(true))), assistant.trainableVariables()).every((g) => g > 0)).toBe(true);
    expect(maxGrad(() => sum(inst.losses(io(false))), student.trainableVariables()).every((g) => g > 0)).toBe(true);
    expect(maxGrad(() => sum(inst.losses(io(false))), assistant.trainableVariables()).every((g) => g === 0)).toBe(true);
    // no leak over repeated steps of both stages
    tf.tidy(() => { sum(inst.losses(io(false))).dataSync(); });
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) tf.tidy(() => { sum({ ...stage.losses(io(true)), ...inst.losses(io(false)) }).dataSync(); });
    expect(tf.memory().numTensors).toBe(before);
    expect(metricsOf(inst, (model) => ({ top1: model === assistant ? 55 : 0, top5: 0 }))).toEqual({ assistant: 55 });
    disposeInstance(inst);
    tf.dispose([x, labels]);
    student.dispose();
    teacher.dispose();
  });

  it('cites its paper and uses the KD weights for both hops', () => {
    expect(takd.defaults).toEqual({ assistant: 'resnet14', T: 4, gamma: 0.1, alpha: 0.9 });
    expect(takd.paper?.url).toContain('1902.03393');
    expect([takd.family, takd.scheme, takd.teacher, takd.teacherOutputs]).toEqual(['response', 'offline', 'required', 'logits']);
  });
});
