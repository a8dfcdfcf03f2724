import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, tf } from '@kdbench/engine';
import { createModel, type FeatureShape, type ForwardResult } from '@kdbench/models';
import { PartSet, methodContext, type MethodContext, type StepIO } from '@kdbench/core';
import {
  batchStepper, buffersOf, ctxFor, disposeInstance, fakeSplit, leakOf, runOnRealModels, stagesOf, value, varsOf,
} from '@kdbench/core/testing';
import { linkedFeatureDistance, orthogonalPenalty, tofd, tofdTemperature } from '../src/tofd.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

type Hp = typeof tofd.defaults;
const shape = (name: string, channels: number, size: number): FeatureShape => ({ name, channels, height: size, width: size });

/** A context for networks with the given stage shapes (stem first) and pooled widths. */
function ctxOf(s: FeatureShape[], t: FeatureShape[], over: Partial<Hp> = {}, epochs = 250, dims: [number, number] = [2, 2]): MethodContext<Hp, 'required'> {
  const f = tf.zeros([1, 1, 1, 1]) as tf.Tensor4D;
  const base = ctxFor(tofd, [f], [f], over, epochs);
  f.dispose();
  return {
    ...base, numClasses: 2,
    studentShapes: [...s, shape('embedding', dims[0], 1)], teacherShapes: [...t, shape('embedding', dims[1], 1)],
  };
}

/** One-stage networks: only head 0 (the network's own classifier), so every term is checkable by hand. */
const oneStage = [shape('stem', 1, 2), shape('stage1', 2, 2)];
const result = (embedding: number[][], logits: number[][]): ForwardResult => ({
  embedding: tf.tensor2d(embedding), logits: tf.tensor2d(logits),
  features: [{ name: 'stem', pre: tf.zeros([2, 2, 2, 1]), post: tf.zeros([2, 2, 2, 1]) }, { name: 'stage1', pre: tf.zeros([2, 2, 2, 2]), post: tf.zeros([2, 2, 2, 2]) }],
}) as unknown as ForwardResult;
const io = (s: ForwardResult, t: ForwardResult, epoch: number): StepIO<'required'> => ({
  x: tf.zeros([2, 32, 32, 3]) as tf.Tensor4D, labels: tf.tensor1d([0, 1], 'int32'), ids: new Int32Array(2),
  student: s, teacher: t, epoch, progress: 0, step: 0, stage: 'main',
});

describe('tofd (Zhang et al. 2020)', () => {
  it('grows the temperature from 1 + t/E to 1 + t over the run', () => {
    expect(tofdTemperature(3, 0, 250)).toBeCloseTo(1.012, 10);
    expect(tofdTemperature(3, 249, 250)).toBeCloseTo(4, 10);
    expect(tofdTemperature(3, 5, 12)).toBeCloseTo(2.5, 10);
  });

  it('feature distance and orthogonal penalty: plain Frobenius norms, by hand', () => {
    // link (PyTorch weight [[1, 1], [0, 1]], stored transposed): f_s = [[1, 0], [0, 2]] -> [[1, 0], [2, 2]];
    // minus f_t = [[1, 1], [0, 0]] gives [[0, -1], [2, 2]]: sqrt(0 + 1 + 4 + 4) = 3.
    // W W^T - I = [[1, 1], [1, 0]] and W^T W - I = [[0, 1], [1, 1]]: sqrt(3) + sqrt(3) = 3.464102.
    // A 2x3 W = [[1, 0, 0], [0, 1, 0]]: W W^T = I (0) and W^T W - I = diag(0, 0, -1) (1).
    tf.tidy(() => {
      const w = tf.tensor2d([[1, 0], [1, 1]]);
      expect(value(linkedFeatureDistance(tf.tensor2d([[1, 0], [0, 2]]), tf.tensor2d([[1, 1], [0, 0]]), w))).toBeCloseTo(3, 6);
      expect(value(orthogonalPenalty(w))).toBeCloseTo(2 * Math.sqrt(3), 5);
      expect(value(orthogonalPenalty(tf.tensor2d([[1, 0, 0], [0, 1, 0]])))).toBeCloseTo(1, 6);
    });
  });

  it('sums CE, soft CE at the growing T, alpha * distance and beta * orthogonal penalty (one head, by hand)', () => {
    // z_s = [[1, 0], [0, 0]], z_t = [[0, 1], [0, 0]], labels [0, 1], epoch 0 of 250: T = 1.012.
    // CE = (log(1 + e^-1) + log 2) / 2 = (0.313262 + 0.693147) / 2 = 0.503204.
    // soft CE: row 1 = 1.036544 (core test), row 2 = log 2 (both uniform): mean 0.864846.
    // feature = 0.05 * 3 = 0.15; orthogonal = 0.03 * 3.464102 = 0.103923 (link set to the matrix above).
    const inst = tofd.create(ctxOf(oneStage, oneStage));
    varsOf(inst, 'links')[0]!.assign(tf.tensor2d([[1, 0], [1, 1]]));
    tf.tidy(() => {
      const terms = inst.losses(io(result([[1, 0], [0, 2]], [[1, 0], [0, 0]]), result([[1, 1], [0, 0]], [[0, 1], [0, 0]]), 0));
      expect(Object.keys(terms)).toEqual(['ce', 'kd', 'feature', 'orthogonal']);
      expect(value(terms.ce!)).toBeCloseTo(0.503204, 5);
      expect(value(terms.kd!)).toBeCloseTo(0.864846, 5);
      expect(value(terms.feature!)).toBeCloseTo(0.15, 6);
      expect(value(terms.orthogonal!)).toBeCloseTo(0.103923, 5);
    });
    disposeInstance(inst);
  });

  it('puts one auxiliary head per shallow stage (pair-wise the smaller count) and refuses a stride other than 1 or 2', () => {
    const three = [shape('stem', 1, 8), shape('stage1', 2, 8), shape('stage2', 4, 4), shape('stage3', 4, 4)];
    const inst = tofd.create(ctxOf(three, [...three, shape('stage4', 8, 2)]));
    expect(varsOf(inst, 'links')).toHaveLength(3); // head 0 + heads on stage2 and stage1
    disposeInstance(inst);
    const jump = [shape('stem', 1, 8), shape('stage1', 2, 8), shape('stage2', 2, 2)];
    expect(() => tofd.create(ctxOf(jump, jump))).toThrow(/tofd \(student\): no separable-conv block from stage1 \(8x8\) to stage2 \(2x2\)/);
  });

  it('refuses bad hyperparameters with the field named', () => {
    expect(() => tofd.create(ctxOf(oneStage, oneStage, { alpha: -1 }))).toThrow(/tofd: alpha must be >= 0, got -1/);
    expect(() => tofd.create(ctxOf(oneStage, oneStage, { t: Number.NaN }))).toThrow(/tofd: t must be >= 0, got NaN/);
    expect(() => tofd.create(ctxOf(oneStage, oneStage, { headEpochs: 0 }))).toThrow(/tofd: headEpochs must be > 0, got 0/);
  });

  describe('on real resnet8 (student) and resnet14 (teacher) networks', () => {
    const setup = (seed = 3) => {
      const student = createModel('resnet8', { numClasses: 10, seed: 0, widthFactor: 0.25 });
      const teacher = createModel('resnet14', { numClasses: 10, seed: 1, widthFactor: 0.25 });
      const inst = tofd.create(methodContext({
        hp: { ...tofd.defaults }, numClasses: 10, student, teacher, train: fakeSplit(100, 10), epochs: 24, batchSize: 4, rng: new Rng(seed),
      }));
      const x = tf.randomNormal([4, 32, 32, 3], 0, 1, 'float32', 11) as tf.Tensor4D;
      const labels = tf.tensor1d([1, 4, 0, 9], 'int32');
      const ioOf = (epoch = 0): StepIO<'required'> => ({
        x, labels, ids: new Int32Array(4), student: student.forward(x, { training: true }), teacher: teacher.forward(x, { training: false }),
        epoch, progress: 0, step: 0, stage: 'main',
      });
      const teacherHeads = () => Object.entries(buffersOf(inst)).filter(([k]) => k.startsWith('tofd.teacherHeads/'));
      const dispose = () => {
        disposeInstance(inst);
        tf.dispose([x, labels]);
        student.dispose();
        teacher.dispose();
      };
      return { student, teacher, inst, x, labels, ioOf, teacherHeads, dispose };
    };

    it("first stage: 60/240 of the run, CE on the teacher's two heads, optimising only them", () => {
      const { inst, ioOf, teacherHeads, dispose } = setup();
      const [stage] = stagesOf(inst);
      expect(stage!.name).toBe('tofd-teacher-heads');
      expect(stage!.epochs).toBe(6);
      const trainable = teacherHeads().map(([, v]) => v).filter((v) => v.trainable);
      expect(new Set(stage!.variables())).toEqual(new Set(trainable));
      const { value: loss, grads } = tf.variableGrads(() => tf.tidy(() => stage!.losses(ioOf()).ce!), stage!.variables());
      expect(Object.keys(grads)).toHaveLength(trainable.length);
      expect(value(loss)).toBeGreaterThan(2 * Math.log(10) * 0.5); // two heads near chance on 10 classes
      tf.dispose([loss, ...Object.values(grads)]);
      dispose();
    });

    it('main stage: trains the student, its heads and the links; never touches the teacher heads', () => {
      const { student, teacher, inst, x, labels, teacherHeads, dispose } = setup();
      const main = new Set(new PartSet(inst, student).mainVariables());
      expect(teacherHeads().some(([, v]) => main.has(v))).toBe(false);
      const before = (vars: tf.Variable[]) => vars.map((v) => Array.from(v.dataSync()));
      const moved = (vars: tf.Variable[], old: number[][]) => vars.filter((v, i) => Array.from(v.dataSync()).some((a, j) => a !== old[i]![j])).length;
      const groups = {
        student: student.trainableVariables(), studentHeads: varsOf(inst, 'studentHeads'), links: varsOf(inst, 'links'),
        teacherHeads: teacherHeads().map(([, v]) => v),
      };
      const old = Object.fromEntries(Object.entries(groups).map(([k, v]) => [k, before(v)]));
      const stepper = batchStepper(inst, student, teacher);
      const logged = stepper.step({ x, labels }, 0, 0);
      stepper.dispose();
      expect(Object.keys(logged).sort()).toEqual(['ce', 'feature', 'kd', 'orthogonal', 'total']);
      expect(moved(groups.student, old.student!)).toBe(groups.student.length);
      expect(moved(groups.studentHeads, old.studentHeads!)).toBe(groups.studentHeads.length);
      expect(moved(groups.links, old.links!)).toBe(groups.links.length);
      expect(moved(groups.teacherHeads, old.teacherHeads!)).toBe(0);
      dispose();
    });

    it('leaks nothing and gives the same terms for the same seed', () => {
      const a = setup(5);
      const terms = (s: ReturnType<typeof setup>) => tf.tidy(() => Object.fromEntries(Object.entries(s.inst.losses(s.ioOf(2))).map(([k, v]) => [k, value(v)])));
      expect(leakOf(() => a.inst.losses(a.ioOf()))).toBe(0);
      const first = terms(a);
      a.dispose();
      const b = setup(5);
      expect(terms(b)).toEqual(first);
      b.dispose();
    });
  });

  it('has the authors\' defaults and runs through the kit on resnet8 / resnet8x4', () => {
    expect(tofd.defaults).toEqual({ alpha: 0.05, beta: 0.03, t: 3, headEpochs: 60 });
    expect([tofd.family, tofd.knowledge, tofd.scheme, tofd.teacher]).toEqual(['feature', 'feature', 'offline', 'required']);
    const out = runOnRealModels(tofd);
    expect(Object.keys(out).sort()).toEqual(['ce', 'feature', 'kd', 'orthogonal', 'tofd-teacher-heads/ce']);
    for (const v of Object.values(out)) expect(Number.isFinite(v)).toBe(true);
  });
});
