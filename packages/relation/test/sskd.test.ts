import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, tf } from '@kdbench/engine';
import { createModel, type Model } from '@kdbench/models';
import { PartSet, methodContext, type StepIO } from '@kdbench/core';
import {
  batchStepper, buffersOf, ctxFor, disposeInstance, fakeSplit, leakOf, runOnRealModels, stagesOf, value, varsOf,
} from '@kdbench/core/testing';
import { keptRows, rotatedViews, selfSupervisionLoss, sskd, sskdTerms } from '../src/sskd.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// B = 2 samples; rows 0-1 unrotated, rows 2-7 rotated (sources 0, 0, 0, 1, 1, 1).
const teacherHead = [[1, 0], [0, 1], [1, 0], [0, 1], [2, 1], [0, 1], [1, 0], [1, 2]];
const studentHead = [[1, 1], [-1, 1], [1, 0], [1, 2], [0, 1], [0, 1], [1, 1], [-1, 0]];
const teacherLogits = [[2, 0, 0], [0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, 2], [3, 0, 1], [1, 2, 0]];
const studentLogits = [[1, 0, 0], [0, 1, 0], [0, 0, 0], [1, 1, 0], [0, 1, 2], [1, 0, 1], [2, 0, 0], [0, 0, 0]];

describe('sskd (Xu et al. 2020)', () => {
  it("rotates like numpy's rot90 (counter-clockwise), three views per image, sample-major", () => {
    // [[1, 2], [3, 4]]: rot90 k=1 [[2, 4], [1, 3]], k=2 [[4, 3], [2, 1]], k=3 [[3, 1], [4, 2]]; image 2 is image 1 + 10
    tf.tidy(() => {
      const x = tf.tensor4d([1, 2, 3, 4, 11, 12, 13, 14], [2, 2, 2, 1]);
      const views = rotatedViews(x).reshape([6, 4]).arraySync();
      const one = [[2, 4, 1, 3], [4, 3, 2, 1], [3, 1, 4, 2]];
      expect(views).toEqual([...one, ...one.map((r) => r.map((v) => v + 10))]);
    });
    expect(() => rotatedViews(tf.zeros([1, 2, 3, 1]) as tf.Tensor4D)).toThrow(/sskd: rotations need square images, got 2x3/);
  });

  it('keeps the rows the teacher gets right and the lowest-ranked share of the others, ties by row', () => {
    // ranks of the correct column: [0, 1, 1, 0, 1, 2]; W = 4 wrong rows
    const scores = [1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 2, 3, 0, 1, 1, 2, 0];
    const correct = [0, 0, 0, 2, 2, 2];
    expect(Array.from(keptRows(scores, 6, correct, 1))).toEqual([0, 1, 2, 3, 4, 5]);
    expect(Array.from(keptRows(scores, 6, correct, 0.5))).toEqual([0, 1, 2, 3]); // + floor(2): rank-1 rows 1 and 2
    expect(Array.from(keptRows(scores, 6, correct, 0.75))).toEqual([0, 1, 2, 3, 4]); // + floor(3)
    expect(Array.from(keptRows(scores, 6, correct, 0))).toEqual([0, 3]);
  });

  it('first stage: CE of the cosine similarities (no temperature) against each rotated row\'s source, by hand', () => {
    // teacher similarity rows [1, 0], [0, 1], [0.894427, 0.447214], [0, 1], [1, 0], [0.447214, 0.894427]
    // against sources 0, 0, 0, 1, 1, 1: mean CE = 0.706953
    tf.tidy(() => {
      expect(value(selfSupervisionLoss(tf.tensor2d(teacherHead)))).toBeCloseTo(0.706953, 5);
    });
  });

  it('main stage: the four weighted terms, by hand', () => {
    // ce on rows 0-1 (labels 0, 2): 1.051445; kd (T 4, x16) on rows 0-1: 0.234245;
    // tf (T 4, x16) over kept rotated rows {0, 1, 2, 3} at ratio 0.5: 0.170396;
    // ss (T 0.5, x0.25): similarity ranks [0, 1, 0, 0, 1, 0], W = 2, keep floor(1.5) = 1 wrong row (row 1 before
    // row 4); per-row KL [0.029248, 0.997424, 0.090819, 0.327813, 0, 0.275898] -> 0.25 * 1.721202 / 5 = 0.086060.
    // Weighted 0.1 / 0.9 / 2.7 / 10.
    tf.tidy(() => {
      const terms = sskdTerms(
        { ...sskd.defaults, ratioTf: 0.5 }, tf.tensor1d([0, 2], 'int32'),
        { logits: tf.tensor2d(studentLogits), head: tf.tensor2d(studentHead) },
        { logits: tf.tensor2d(teacherLogits), head: tf.tensor2d(teacherHead) },
      );
      expect(Object.keys(terms)).toEqual(['ce', 'kd', 'tf', 'ss']);
      expect(value(terms.ce!)).toBeCloseTo(0.1 * 1.051445, 5);
      expect(value(terms.kd!)).toBeCloseTo(0.9 * 0.234245, 5);
      expect(value(terms.tf!)).toBeCloseTo(2.7 * 0.170396, 5);
      expect(value(terms.ss!)).toBeCloseTo(10 * 0.08606, 4);
    });
  });

  it("sends gradient into the student's logits and head, none into the teacher's", () => {
    const s = [tf.tensor2d(studentLogits), tf.tensor2d(studentHead)];
    const t = [tf.tensor2d(teacherLogits), tf.tensor2d(teacherHead)];
    const labels = tf.tensor1d([0, 2], 'int32');
    const total = (sl: tf.Tensor, sh: tf.Tensor, tl: tf.Tensor, th: tf.Tensor) => tf.addN(Object.values(sskdTerms(
      sskd.defaults, labels, { logits: sl as tf.Tensor2D, head: sh as tf.Tensor2D }, { logits: tl as tf.Tensor2D, head: th as tf.Tensor2D },
    ))) as tf.Scalar;
    const grads = tf.grads(total)([s[0]!, s[1]!, t[0]!, t[1]!]);
    const nonZero = grads.map((g) => Array.from(g.dataSync()).some((v) => v !== 0));
    expect(nonZero).toEqual([true, true, false, false]);
    tf.dispose([...s, ...t, labels, ...grads]);
  });

  it('refuses bad hyperparameters with the field named', () => {
    const f = [tf.zeros([1, 1, 1, 1]) as tf.Tensor4D];
    for (const [over, message] of [
      [{ ssT: 0 }, /sskd: ssT must be > 0, got 0/],
      [{ ratioSs: 1.5 }, /sskd: ratioSs must be in \[0, 1\], got 1.5/],
      [{ tfWeight: -1 }, /sskd: tfWeight must be >= 0, got -1/],
    ] as const) {
      expect(() => sskd.create(ctxFor(sskd, f, f, over))).toThrow(message);
    }
    tf.dispose(f);
  });

  describe('on real resnet8 (student) and resnet14 (teacher) networks', () => {
    /** `spy` (when given) records the batch size of every forward pass of the student. */
    const setup = (seed = 3, spy?: number[]) => {
      const net = createModel('resnet8', { numClasses: 10, seed: 0, widthFactor: 0.25 });
      const forward = net.forward.bind(net);
      const student: Model = spy
        ? Object.assign(Object.create(net) as Model, { forward: (input: tf.Tensor4D, opts: Parameters<Model['forward']>[1]) => (spy.push(input.shape[0]), forward(input, opts)) })
        : net;
      const teacher = createModel('resnet14', { numClasses: 10, seed: 1, widthFactor: 0.25 });
      const inst = sskd.create(methodContext({
        hp: { ...sskd.defaults }, numClasses: 10, student, teacher, train: fakeSplit(100, 10), epochs: 24, batchSize: 4, rng: new Rng(seed),
      }));
      const x = tf.randomNormal([4, 32, 32, 3], 0, 1, 'float32', 11) as tf.Tensor4D;
      const labels = tf.tensor1d([1, 4, 0, 9], 'int32');
      const ioOf = (): StepIO<'required'> => ({
        x, labels, ids: new Int32Array(4), teacher: teacher.forward(x, { training: false }), epoch: 0, progress: 0, step: 0, stage: 'main',
        get student(): never { throw new Error('sskd must not read io.student: it forwards the student once on all 4B views'); },
      });
      const teacherHead = () => Object.values(buffersOf(inst));
      const dispose = () => {
        disposeInstance(inst);
        tf.dispose([x, labels]);
        net.dispose();
        teacher.dispose();
      };
      return { student, teacher, inst, x, labels, ioOf, teacherHead, dispose };
    };

    it("first stage: 60/240 of the run at 0.05, x0.1 at 50% and 75%, optimising only the teacher's head", () => {
      const { inst, ioOf, teacherHead, dispose } = setup();
      const [stage] = stagesOf(inst);
      expect([stage!.name, stage!.epochs]).toEqual(['sskd-teacher-head', 6]);
      const rate = stage!.schedule as (base: number, epoch: number, epochs: number) => number;
      expect([0, 2, 3, 4, 5].map((e) => rate(0.01, e, 6))).toEqual([0.05, 0.05, 0.005, 0.005, 0.0005].map((r) => expect.closeTo(r, 12)));
      expect(new Set(stage!.variables())).toEqual(new Set(teacherHead()));
      const { value: loss, grads } = tf.variableGrads(() => tf.tidy(() => stage!.losses(ioOf()).ss!), stage!.variables());
      expect(Object.keys(grads)).toHaveLength(4);
      expect(Number.isFinite(value(loss))).toBe(true);
      tf.dispose([loss, ...Object.values(grads)]);
      dispose();
    });

    it('main stage: one student forward on 4B images; trains the student and its head, never the teacher head', () => {
      const batches: number[] = [];
      const { student, teacher, inst, x, labels, teacherHead, dispose } = setup(3, batches);
      expect(teacherHead().some((v) => new Set(new PartSet(inst, student).mainVariables()).has(v))).toBe(false);
      const snapshot = (vars: tf.Variable[]) => vars.map((v) => Array.from(v.dataSync()));
      const moved = (vars: tf.Variable[], old: number[][]) => vars.filter((v, i) => Array.from(v.dataSync()).some((a, j) => a !== old[i]![j])).length;
      const groups = { student: student.trainableVariables(), head: varsOf(inst, 'studentHead'), teacherHead: teacherHead() };
      const old = Object.fromEntries(Object.entries(groups).map(([k, v]) => [k, snapshot(v)]));
      const stepper = batchStepper(inst, student, teacher);
      const logged = stepper.step({ x, labels }, 0, 0);
      stepper.dispose();
      expect(batches).toEqual([16]); // 4 images and their 12 rotations, in one pass (batch-norm statistics over all)
      expect(Object.keys(logged).sort()).toEqual(['ce', 'kd', 'ss', 'tf', 'total']);
      expect(moved(groups.student, old.student!)).toBe(groups.student.length);
      expect(moved(groups.head, old.head!)).toBe(groups.head.length);
      expect(moved(groups.teacherHead, old.teacherHead!)).toBe(0);
      dispose();
    });

    it('leaks nothing and gives the same terms for the same seed', () => {
      const terms = (s: ReturnType<typeof setup>) => tf.tidy(() => Object.fromEntries(Object.entries(s.inst.losses(s.ioOf())).map(([k, v]) => [k, value(v)])));
      const a = setup(5);
      expect(leakOf(() => a.inst.losses(a.ioOf()))).toBe(0);
      const first = terms(a);
      a.dispose();
      const b = setup(5);
      expect(terms(b)).toEqual(first);
      b.dispose();
    });
  });

  it("has the authors' defaults and runs through the kit on resnet8 / resnet8x4", () => {
    expect(sskd.defaults).toEqual({
      ceWeight: 0.1, kdWeight: 0.9, tfWeight: 2.7, ssWeight: 10, kdT: 4, tfT: 4, ssT: 0.5, ratioTf: 1, ratioSs: 0.75, headEpochs: 60, headLr: 0.05,
    });
    expect([sskd.family, sskd.knowledge, sskd.scheme, sskd.teacher]).toEqual(['relation', 'relation', 'offline', 'required']);
    const out = runOnRealModels(sskd);
    expect(Object.keys(out).sort()).toEqual(['ce', 'kd', 'ss', 'sskd-teacher-head/ss', 'tf']);
    for (const v of Object.values(out)) expect(Number.isFinite(v)).toBe(true);
  });
});
