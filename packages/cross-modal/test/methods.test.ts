/** The cross-modal methods: the modality student, hand-computed terms, label-free access, leaks. */
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, methodContext, type ContrastiveCriterion, type Hyper, type MethodDefinition, type StepIO } from '@kdbench/core';
import { afterStepOf, buffersOf, disposeInstance, fakeSplit, leakOf, varsOf } from '@kdbench/core/testing';
import { applyModality, CIFAR100_NORMALIZATION, CIFAR10_NORMALIZATION } from '@kdbench/data';
import { Rng, tf } from '@kdbench/engine';
import { createModel, type ForwardResult, type Model } from '@kdbench/models';
import { crdcrossmodal, modalitykd, modalitylabeled, ModalityModel, normalizationFor, suptransfer } from '../src/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const value = (t: tf.Tensor) => t.dataSync()[0]!;

/** A step whose labels getter throws (what the trainer serves a method with data: 'unlabeled'). */
function unlabeledStep(student: ForwardResult, teacher: ForwardResult, ids: number[]): StepIO {
  return {
    x: tf.zeros([ids.length, 32, 32, 3]) as tf.Tensor4D,
    get labels(): tf.Tensor1D { throw new Error('labels read by a label-free method'); },
    ids: Int32Array.from(ids), student, teacher, epoch: 0, progress: 0, step: 0, stage: 'main',
  };
}

const labeledStep = (student: ForwardResult, teacher: ForwardResult | undefined, labels: number[]): StepIO => ({
  x: tf.zeros([labels.length, 32, 32, 3]) as tf.Tensor4D, labels: tf.tensor1d(labels, 'int32'), ids: new Int32Array(labels.length),
  student, teacher, epoch: 0, progress: 0, step: 0, stage: 'main',
});

/** Context on real tiny networks; `data` as the definition declares it (labels hidden for 'unlabeled'). */
function context<H extends Hyper>(def: MethodDefinition<H>, student: Model, teacher: Model | undefined, over: Partial<H> = {}, n = 12) {
  return methodContext({
    hp: { ...def.defaults, ...over }, numClasses: 10, student, teacher, train: fakeSplit(n, 10), epochs: 2, batchSize: 2,
    rng: new Rng(1), data: def.data,
  });
}

let student: Model;
let teacher: Model;

beforeAll(() => {
  student = createModel('resnet8', { numClasses: 10, seed: 0, widthFactor: 0.25 });
  teacher = createModel('resnet14', { numClasses: 10, seed: 1, widthFactor: 0.25 });
});

describe('the student on a modality', () => {
  it('is the run\'s student seeing its input through the modality (training and evaluation alike)', () => {
    const inst = modalitylabeled.create(context(modalitylabeled, student, undefined, { modality: 'edge' }));
    const wrapped = inst.procedure!.student as ModalityModel;
    expect(wrapped).toBeInstanceOf(ModalityModel);
    expect(wrapped.modality).toBe('edge');
    expect(wrapped.trainableVariables()).toEqual(student.trainableVariables());
    expect(wrapped.featureShapes()).toEqual(student.featureShapes());
    const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    for (const training of [false, true]) {
      tf.tidy(() => {
        const a = wrapped.forward(x, { training }).logits;
        const b = student.forward(applyModality(x, 'edge', CIFAR10_NORMALIZATION), { training }).logits;
        expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBeLessThan(1e-5);
      });
    }
    const before = tf.memory().numTensors;
    tf.tidy(() => { wrapped.forward(x, { training: false }); });
    expect(tf.memory().numTensors).toBe(before);
    wrapped.dispose(); // owns nothing: the inner network still works
    expect(student.forward(x, { training: false }).logits.shape).toEqual([2, 10]);
    x.dispose();
  });

  it('checks the modality and the dataset', () => {
    for (const def of [modalitylabeled, modalitykd, suptransfer, crdcrossmodal] as MethodDefinition<any>[]) {
      expect(() => def.create(context(def, student, teacher, { modality: 'rgb' }))).toThrow(ConfigError);
      expect(() => def.create(context(def, student, teacher, { modality: 'depth' }))).toThrow(/modality must be one of gray, low8, low16, edge, got 'depth'/);
    }
    expect(normalizationFor('m', 'cifar100')).toBe(CIFAR100_NORMALIZATION);
    expect(() => normalizationFor('m', 'svhn')).toThrow(/no CIFAR normalisation for dataset 'svhn'/);
  });
});

describe('modalitylabeled and modalitykd', () => {
  it('modalitylabeled: cross-entropy only, no teacher', () => {
    expect(modalitylabeled.teacher).toBe('none');
    expect(modalitylabeled.knowledge).toBe('none');
    const inst = modalitylabeled.create(context(modalitylabeled, student, undefined));
    // s = (1, 2, 0), label 1: CE = -log(e^2 / (e + e^2 + 1)) = 0.407606
    const s = { logits: tf.tensor2d([[1, 2, 0]]), features: [], embedding: tf.tensor2d([[0]]) };
    const terms = inst.losses(labeledStep(s, undefined, [1]));
    expect(Object.keys(terms)).toEqual(['ce']);
    expect(value(terms.ce!)).toBeCloseTo(0.407606, 5);
  });

  it('modalitykd: CE + T^2 KL to the RGB teacher, by hand', () => {
    const inst = modalitykd.create(context(modalitykd, student, teacher, { T: 2 }));
    expect(inst.procedure!.student).toBeInstanceOf(ModalityModel);
    // s = (1, 2, 0), t = (2, 0, 1), label 1, T = 2: CE = 0.407606, T^2 KL = 0.882056 (CONTRIBUTING.md's kd example)
    const s = { logits: tf.tensor2d([[1, 2, 0]]), features: [], embedding: tf.tensor2d([[0]]) };
    const t = { logits: tf.tensor2d([[2, 0, 1]]), features: [], embedding: tf.tensor2d([[0]]) };
    const terms = inst.losses(labeledStep(s, t, [1]));
    expect(value(terms.ce!)).toBeCloseTo(0.1 * 0.407606, 5);
    expect(value(terms.kd!)).toBeCloseTo(0.9 * 0.882056, 5);
    expect(modalitykd.teacherOutputs).toBe('logits');
  });
});

describe('suptransfer (Gupta et al. 2016): label-free', () => {
  it('declares data: unlabeled, never reads labels, and matches features and soft targets, by hand', () => {
    expect(suptransfer.data).toBe('unlabeled');
    const inst = suptransfer.create(context(suptransfer, student, teacher, { T: 1 }));
    expect(Object.keys(inst.parts ?? {})).toEqual([]); // equal last-stage shapes: no regressor
    const f = (v: number[]) => tf.tensor4d(v, [1, 1, 2, 1]);
    // features (1, 3) vs (0, 1): MSE = (1 + 4) / 2 = 2.5; logits s = (0, 0), t = (ln 3, 0), T = 1:
    // KL = 3/4 ln(3/2) + 1/4 ln(1/2) = 0.130812
    const s = { logits: tf.tensor2d([[0, 0]]), features: [{ name: 'stem', pre: f([9, 9]), post: f([9, 9]) }, { name: 'stage1', pre: f([1, 3]), post: f([1, 3]) }], embedding: tf.tensor2d([[0]]) };
    const t = { logits: tf.tensor2d([[Math.log(3), 0]]), features: [{ name: 'stem', pre: f([0, 0]), post: f([0, 0]) }, { name: 'stage1', pre: f([0, 1]), post: f([0, 1]) }], embedding: tf.tensor2d([[0]]) };
    const terms = inst.losses(unlabeledStep(s, t, [0]));
    expect(Object.keys(terms)).toEqual(['features', 'kd']);
    expect(value(terms.features!)).toBeCloseTo(100 * 2.5, 4);
    expect(value(terms.kd!)).toBeCloseTo(0.130812, 5);
    // the context hides the labels of the split from it too
    expect(() => context(suptransfer, student, teacher).trainLabels).toThrow(/may not read the labels/);
  });

  it('with a wider teacher a regressor maps the student\'s map; gradients reach it and the student; no leak', () => {
    const wide = createModel('resnet8x4', { numClasses: 10, seed: 2, widthFactor: 0.25 });
    const inst = suptransfer.create(context(suptransfer, student, wide));
    const reg = varsOf(inst, 'regressor');
    expect(reg.length).toBeGreaterThan(0);
    const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
    const io = () => unlabeledStep(inst.procedure!.student!.forward(x, { training: true }), wide.forward(x, { training: false }), [0, 1]);
    tf.tidy(() => {
      const vars = [...student.trainableVariables(), ...reg];
      const { grads } = tf.variableGrads(() => tf.addN(Object.values(inst.losses(io()))) as tf.Scalar, vars);
      for (const v of reg.filter((r) => /weight|gamma/.test(r.name))) expect(tf.max(tf.abs(grads[v.name]!)).dataSync()[0]).toBeGreaterThan(0);
      expect(student.trainableVariables().some((v) => tf.max(tf.abs(grads[v.name]!)).dataSync()[0]! > 0)).toBe(true);
    });
    expect(leakOf(() => inst.losses(io()))).toBe(0);
    disposeInstance(inst);
    wide.dispose();
    x.dispose();
  });
});

describe('crdcrossmodal (CRD across modalities): label-free', () => {
  it('never reads labels; negatives are any other record; banks move; gradients reach the heads; no leak', () => {
    expect(crdcrossmodal.data).toBe('unlabeled');
    const n = 12;
    const inst = crdcrossmodal.create(context(crdcrossmodal, student, teacher, {}, n));
    const criterion = inst.parts!.crdMemory as ContrastiveCriterion;
    expect(criterion.k).toBe(n - 1); // K = 16384 capped at N - 1: every other record
    const x = tf.randomNormal([3, 32, 32, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
    const io = (ids: number[]) => unlabeledStep(inst.procedure!.student!.forward(x, { training: true }), teacher.forward(x, { training: false }), ids);
    const terms = tf.tidy(() => Object.fromEntries(Object.entries(inst.losses(io([4, 0, 9]))).map(([k, v]) => [k, value(v)])));
    expect(Object.keys(terms)).toEqual(['crd', 'kd']);
    for (const v of Object.values(terms)) expect(Number.isFinite(v)).toBe(true);
    const sample = criterion.lastSample!;
    [4, 0, 9].forEach((row, b) => {
      const negs = Array.from(sample.slice(b * n + 1, (b + 1) * n));
      expect(sample[b * n]).toBe(row);
      expect(negs.sort((p, q) => p - q)).toEqual(Array.from({ length: n }, (_, i) => i).filter((i) => i !== row));
    });
    const bank = criterion.memory.student.arraySync() as number[][];
    afterStepOf(inst);
    const moved = (criterion.memory.student.arraySync() as number[][]).map((r, i) => r.some((v, j) => v !== bank[i]![j]));
    expect(moved.map((m, i) => (m ? i : -1)).filter((i) => i >= 0)).toEqual([0, 4, 9]);
    tf.tidy(() => {
      const heads = Object.values(inst.parts!).flatMap((m) => m.trainableVariables?.() ?? []);
      const { grads } = tf.variableGrads(() => inst.losses(io([1, 2, 3])).crd!, heads);
      for (const v of heads) expect(tf.max(tf.abs(grads[v.name]!)).dataSync()[0]).toBeGreaterThan(0);
    });
    afterStepOf(inst);
    const counts: number[] = [];
    for (let i = 0; i < 3; i++) {
      tf.tidy(() => { tf.addN(Object.values(inst.losses(io([5, 6, 7])))).dataSync(); });
      afterStepOf(inst);
      counts.push(tf.memory().numTensors);
    }
    expect(new Set(counts).size).toBe(1);
    expect(Object.keys(buffersOf(inst))).toEqual(['memoryStudent', 'memoryTeacher', 'z']);
    disposeInstance(inst);
    x.dispose();
  });
});
