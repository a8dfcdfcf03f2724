/** The four methods: loss terms on hand-made logits, the quantised student hook, QKD's phases, size records, leaks. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { methodContext, type Hyper, type MethodContext, type MethodDefinition, type StepIO } from '@kdbench/core';
import { fakeSplit, leakOf, stagesOf, metricsOf, disposeInstance } from '@kdbench/core/testing';
import { initEngine, Rng, tf } from '@kdbench/engine';
import { createModel, type ForwardResult, type Model } from '@kdbench/models';
import { apprentice, qat, qkd, quantdistill, quantizedMethods, type QuantizedModel } from '../src/index.js';

let student: Model;
let teacher: Model;
beforeAll(async () => {
  await initEngine({ backend: 'wasm' });
  student = createModel('resnet8', { numClasses: 3, seed: 1, widthFactor: 0.25 });
  teacher = createModel('resnet14', { numClasses: 3, seed: 2, widthFactor: 0.25 });
});
afterAll(() => {
  student.dispose();
  teacher.dispose();
});

function ctx<H extends Hyper>(def: MethodDefinition<H>, over: Partial<H> = {}, epochs = 12): MethodContext<H> {
  return methodContext({
    hp: { ...def.defaults, ...over }, numClasses: 3, student, teacher: def.teacher === 'required' ? teacher : undefined,
    train: fakeSplit(12, 3), epochs, batchSize: 4, rng: new Rng(0),
  });
}

/** One image, three classes: student logits [1, 2, 0], teacher logits [2, 0, 1], label 1. */
function handIO(): StepIO {
  const out = (l: number[]): ForwardResult => ({ logits: tf.tensor2d([l]), features: [], embedding: tf.zeros([1, 2]) as tf.Tensor2D });
  return {
    x: tf.zeros([1, 32, 32, 3]) as tf.Tensor4D, labels: tf.tensor1d([1], 'int32'), ids: new Int32Array(1),
    student: out([1, 2, 0]), teacher: out([2, 0, 1]), epoch: 0, progress: 0, step: 0, stage: 'main',
  };
}
// Hand-computed for those logits:
//   CE = -log(e^2 / (e^1 + e^2 + e^0)) = 0.407606
//   T^2 KL(softmax(t/2) || softmax(s/2)) at T = 2: 0.882058
//   H(softmax(t), softmax(s)) = 0.665241 * 1.407606 + 0.090031 * 0.407606 + 0.244728 * 2.407606 = 1.562304
const CE = 0.407606;
const KL_T2 = 0.882058;
const H_T1 = 1.562304;

const values = (terms: Record<string, tf.Scalar>) => Object.fromEntries(Object.entries(terms).map(([k, v]) => [k, v.dataSync()[0]!]));

describe('loss terms on hand-made logits', () => {
  it('qat: the label cross-entropy of the quantised student, nothing else', () => {
    const inst = qat.create(ctx(qat));
    const got = tf.tidy(() => values(inst.losses(handIO())));
    expect(Object.keys(got)).toEqual(['ce']);
    expect(got.ce).toBeCloseTo(CE, 5);
    disposeInstance(inst, student, [teacher]);
  });

  it('quantdistill: 0.3 CE + 0.7 T^2 KL at T = 2 (Polino et al.)', () => {
    const inst = quantdistill.create(ctx(quantdistill));
    const got = tf.tidy(() => values(inst.losses(handIO())));
    expect(got.ce).toBeCloseTo(0.3 * CE, 5); // 0.122282
    expect(got.kd).toBeCloseTo(0.7 * KL_T2, 5); // 0.617440
    disposeInstance(inst, student, [teacher]);
  });

  it('apprentice: 0.5 CE + 0.5 H(teacher soft targets, student) at T = 1 (scheme B)', () => {
    const inst = apprentice.create(ctx(apprentice));
    const got = tf.tidy(() => values(inst.losses(handIO())));
    expect(got.ce).toBeCloseTo(0.5 * CE, 5); // 0.203803
    expect(got.soft).toBeCloseTo(0.5 * H_T1, 5); // 0.781152
    disposeInstance(inst, student, [teacher]);
  });

  it('qkd tutoring: CE + T^2 KL at T = 2 against the (co-studied) teacher', () => {
    const inst = qkd.create(ctx(qkd));
    const got = tf.tidy(() => values(inst.losses(handIO())));
    expect(got.ce).toBeCloseTo(CE, 5);
    expect(got.kd).toBeCloseTo(KL_T2, 5);
    disposeInstance(inst, student, [teacher]);
  });
});

describe('the quantised student hook', () => {
  it.each(quantizedMethods.map((d) => [d.id, d] as const))('%s trains and evaluates a wrapper of ctx.student at the run bits and reports its size', (_id, def) => {
    const inst = def.create(ctx(def, { wbits: 2 }));
    const q = inst.procedure!.student as QuantizedModel;
    expect(q.inner).toBe(student);
    expect(q.bits).toEqual({ weightBits: 2, activationBits: 8, edgeBits: 8 });
    const extra = metricsOf(inst, () => ({ top1: 55, top5: 90 }));
    expect(extra).toMatchObject({ model_bytes: q.modelBytes(), wbits: 2, abits: 8 });
    expect(extra.model_bytes).toBeLessThan(student.paramCount()); // ternary body, 8-bit edges: under 1 byte per parameter
    if (def.id === 'qkd') expect(extra.costudied_teacher).toBe(55);
    expect(q.trainableVariables().length).toBe(student.trainableVariables().length + q.layers.length);
    disposeInstance(inst, student, [teacher]); // frees the clips only: the run's student stays usable
    expect(q.trainableVariables().length).toBe(student.trainableVariables().length);
    expect(student.trainableVariables().every((v) => !v.isDisposed)).toBe(true);
  });

  it('W8A8 and W4A4 follow wbits; abits overrides; bad bits are refused', () => {
    const a = qat.create(ctx(qat, { wbits: 8 }));
    const b = qat.create(ctx(qat, { wbits: 4, abits: 8 }));
    expect((a.procedure!.student as QuantizedModel).label).toBe('W8A8');
    expect((b.procedure!.student as QuantizedModel).label).toBe('W4A8');
    expect(() => qat.create(ctx(qat, { wbits: 1 }))).toThrow(/weightBits/);
    expect(() => quantdistill.create(ctx(quantdistill, { alpha: 1.5 }))).toThrow(/alpha/);
    expect(() => qkd.create(ctx(qkd, { coStudy: -1 }))).toThrow(/coStudy/);
    disposeInstance(a, student, [teacher]);
    disposeInstance(b, student, [teacher]);
  });
});

describe('qkd phases', () => {
  it('runs self-studying and co-studying as stages sized by fractions of the epochs, and checkpoints the teacher', () => {
    const inst = qkd.create(ctx(qkd, {}, 12));
    expect(stagesOf(inst).map((s) => [s.name, s.epochs])).toEqual([['selfstudy', 3], ['costudy', 6]]);
    expect(inst.procedure!.networks!.teacher!.model).toBe(teacher);
    expect(inst.procedure!.networks!.teacher!.trainInMain).toBe(false);
    const q = inst.procedure!.student as QuantizedModel;
    expect(stagesOf(inst)[0]!.variables()).toEqual(q.trainableVariables());
    expect(stagesOf(inst)[1]!.variables()).toEqual([...q.trainableVariables(), ...teacher.trainableVariables()]);
    expect(stagesOf(inst)[1]!.evaluate).toBe(teacher);
    disposeInstance(inst, student, [teacher]);
    const skip = qkd.create(ctx(qkd, { selfStudy: 0 }, 12));
    expect(stagesOf(skip).map((s) => s.name)).toEqual(['costudy']);
    disposeInstance(skip, student, [teacher]);
  });

  it('co-studying: each network learns from the other, the other held constant', () => {
    const inst = qkd.create(ctx(qkd));
    const q = inst.procedure!.student as QuantizedModel;
    const costudy = stagesOf(inst).find((s) => s.name === 'costudy')!;
    const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
    const labels = tf.tensor1d([0, 2], 'int32');
    const sW = student.namedVariables().find((n) => n.name === 'fc.weight')!.variable;
    const tW = teacher.namedVariables().find((n) => n.name === 'fc.weight')!.variable;
    /** Largest |gradient| of the chosen terms with respect to the student's and the teacher's classifier weights. */
    const grads = (names: string[]) => tf.tidy(() => {
      const { grads: g } = tf.variableGrads(() => {
        const io: StepIO = {
          x, labels, ids: new Int32Array(2), student: q.forward(x, { training: true }), teacher: undefined, epoch: 0, progress: 0, step: 0, stage: 'costudy',
        };
        const terms = costudy.losses(io);
        expect(Object.keys(terms).sort()).toEqual(['ce', 'kd', 'teacher_ce', 'teacher_kd']);
        return tf.addN(names.map((k) => terms[k]!)) as tf.Scalar;
      }, [sW, tW]);
      const norm = (v: tf.Variable) => (g[v.name] ? tf.max(tf.abs(g[v.name]!)).dataSync()[0]! : 0);
      return [norm(sW), norm(tW)];
    });
    const [sFromStudentKd, tFromStudentKd] = grads(['kd']);
    const [sFromTeacherKd, tFromTeacherKd] = grads(['teacher_kd']);
    expect(sFromStudentKd).toBeGreaterThan(0);
    expect(tFromStudentKd).toBe(0);
    expect(tFromTeacherKd).toBeGreaterThan(0);
    expect(sFromTeacherKd).toBe(0);
    tf.dispose([x, labels]);
    disposeInstance(inst, student, [teacher]);
  });
});

describe('no leaks', () => {
  it.each(quantizedMethods.map((d) => [d.id, d] as const))('%s: losses leave no tensors behind', (_id, def) => {
    const inst = def.create(ctx(def));
    expect(leakOf(() => { const io = handIO(); inst.losses(io); })).toBe(0);
    disposeInstance(inst, student, [teacher]);
  });
});
