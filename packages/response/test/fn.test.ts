import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@kdbench/engine';
import { createModel, type ForwardResult, type Model } from '@kdbench/models';
import type { MethodContext, StepIO } from '@kdbench/core';
import { ctxFor, leakOf, runOnRealModels, value } from '@kdbench/core/testing';
import { fn, normalizedLogits } from '../src/fn.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A model that only has a classifier (weight [D, C], bias [C]). */
const classifierOnly = (w: number[][], b: number[]) => {
  const vars = [tf.variable(tf.tensor2d(w)), tf.variable(tf.tensor1d(b))];
  return { classifierVariables: () => vars, dispose: () => tf.dispose(vars) } as unknown as Model & { dispose(): void };
};
const out = (embedding: number[][], logits: number[][]) =>
  ({ logits: tf.tensor2d(logits), features: [], embedding: tf.tensor2d(embedding) }) as unknown as ForwardResult;

function ctxWith(student: Model, teacher: Model, over: Partial<typeof fn.defaults> = {}): MethodContext<typeof fn.defaults, 'required'> {
  const f = tf.zeros([1, 1, 1, 1]) as tf.Tensor4D;
  const ctx = { ...ctxFor(fn, [f], [f], over), student, teacher };
  f.dispose();
  return ctx;
}

/** Identity classifiers on 2-d features for student and teacher. */
function setup(over: Partial<typeof fn.defaults> = {}) {
  const student = classifierOnly([[1, 0], [0, 1]], [0, 0]);
  const teacher = classifierOnly([[1, 0], [0, 1]], [0, 0]);
  return { ctx: ctxWith(student, teacher, over), student, teacher };
}

/** One sample: student f = [3, 4] (norm 5), teacher f = [4, 0] (norm 4), identity classifiers, label 1. */
const io = (s: ForwardResult, t: ForwardResult): StepIO<'required'> => ({
  x: tf.zeros([1, 32, 32, 3]) as tf.Tensor4D, labels: tf.tensor1d([1], 'int32'), ids: new Int32Array(1),
  student: s, teacher: t, epoch: 0, progress: 0, step: 0, stage: 'main',
});

describe('fn (Xu et al. 2020)', () => {
  it('gamma * CE on the plain head + lambda * H(teacher, student) on the norm-clipped heads, by hand', () => {
    // student: f / ||f|| * min(5, 2) = [1.2, 1.6] -> z^ = [1.2, 1.6]; plain z = [3, 4].
    // teacher: [4, 0] -> [2, 0]; p_t = softmax([2, 0]) = [0.880797, 0.119203].
    // log softmax([1.2, 1.6]) = [-0.913015, -0.513015]; H = 0.880797 * 0.913015 + 0.119203 * 0.513015 = 0.865334.
    // CE([3, 4], 1) = log(1 + e^-1) = 0.313262. Total with lambda 9, gamma 1: 0.313262 + 7.788006 = 8.101268.
    const { ctx, student, teacher } = setup();
    const inst = fn.create(ctx);
    tf.tidy(() => {
      const terms = inst.losses(io(out([[3, 4]], [[3, 4]]), out([[4, 0]], [[4, 0]])));
      expect(value(terms.ce!)).toBeCloseTo(0.313262, 5);
      expect(value(terms.fn!)).toBeCloseTo(9 * 0.865334, 4);
      expect(value(terms.ce!) + value(terms.fn!)).toBeCloseTo(8.101268, 4);
    });
    student.dispose();
    teacher.dispose();
  });

  it('leaves a feature of norm below tau unchanged and adds the bias unscaled', () => {
    // f = [0.6, 0.8] (norm 1 < 2): z^ = W f + b; f = [6, 8] (norm 10): z^ = W f / 5 + b
    tf.tidy(() => {
      const w = tf.tensor2d([[1, 2], [3, -1]]);
      const b = tf.tensor1d([0.5, -0.5]);
      const z = normalizedLogits(tf.tensor2d([[0.6, 0.8], [6, 8]]), w, b, 2).arraySync();
      const expected = [[0.6 + 2.4 + 0.5, 1.2 - 0.8 - 0.5], [(6 + 24) / 5 + 0.5, (12 - 8) / 5 - 0.5]];
      z.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(expected[i]![j]!, 5)));
    });
  });

  it("trains the student's feature and classifier, never the teacher's; no leaks", () => {
    const { ctx, student, teacher } = setup();
    const inst = fn.create(ctx);
    const t = out([[4, 0]], [[4, 0]]);
    const [ws, bs] = student.classifierVariables();
    const [wt, bt] = teacher.classifierVariables();
    const { grads } = tf.variableGrads(() => {
      const terms = inst.losses(io(out([[3, 4]], [[3, 4]]), t));
      return tf.add(terms.ce!, terms.fn!) as tf.Scalar;
    }, [ws!, bs!, wt!, bt!]);
    // the teacher's head is detached: its classifier gets no gradient, or an all-zero one
    for (const v of [ws!, bs!]) expect(Array.from(grads[v.name]!.dataSync()).some((g) => g !== 0)).toBe(true);
    for (const v of [wt!, bt!]) expect(Array.from(grads[v.name]?.dataSync() ?? []).every((g) => g === 0)).toBe(true);
    tf.dispose(Object.values(grads));
    const f = tf.tensor2d([[3, 4]]);
    const gf = tf.grad((e: tf.Tensor) => inst.losses(io({ logits: tf.tensor2d([[3, 4]]), features: [], embedding: e as tf.Tensor2D }, t)).fn!)(f);
    expect(Array.from(gf.dataSync()).every((v) => Number.isFinite(v) && v !== 0)).toBe(true);
    tf.dispose([f, gf]);
    expect(leakOf(() => inst.losses(io(out([[3, 4]], [[3, 4]]), t)))).toBe(0);
    student.dispose();
    teacher.dispose();
  });

  it('refuses bad hyperparameters with the field named', () => {
    for (const [over, message] of [
      [{ tau: 0 }, /fn: tau must be > 0, got 0/],
      [{ lambda: -1 }, /fn: lambda must be >= 0, got -1/],
      [{ gamma: Number.NaN }, /fn: gamma must be >= 0, got NaN/],
    ] as const) {
      const { ctx, student, teacher } = setup(over);
      expect(() => fn.create(ctx)).toThrow(message);
      student.dispose();
      teacher.dispose();
    }
  });

  it("matches a real network's logits when tau is above every feature norm", () => {
    const net = createModel('resnet8', { numClasses: 10, seed: 0, widthFactor: 0.25 });
    tf.tidy(() => {
      const r = net.forward(tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 1) as tf.Tensor4D, { training: false });
      const [w, b] = net.classifierVariables();
      const diff = tf.max(tf.abs(tf.sub(normalizedLogits(r.embedding, w!, b!, 1e9), r.logits)));
      expect(value(diff)).toBeLessThan(1e-4);
    });
    net.dispose();
  });

  it("runs on real resnet8 / resnet8x4 features with the authors' defaults", () => {
    expect(fn.defaults).toEqual({ tau: 2, lambda: 9, gamma: 1 });
    expect([fn.family, fn.knowledge, fn.scheme, fn.teacher]).toEqual(['response', 'response', 'offline', 'required']);
    const a = runOnRealModels(fn);
    expect(Object.keys(a).sort()).toEqual(['ce', 'fn']);
    for (const v of Object.values(a)) expect(Number.isFinite(v)).toBe(true);
  });

  it('gives the same terms twice for the same networks and batch', () => {
    const make = () => createModel('resnet8', { numClasses: 10, seed: 4, widthFactor: 0.25 });
    const terms = () => {
      const [s, t] = [make(), createModel('resnet14', { numClasses: 10, seed: 5, widthFactor: 0.25 })];
      const inst = fn.create(ctxWith(s, t));
      const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
      const r = tf.tidy(() => {
        const step = { ...io(s.forward(x, { training: true }), t.forward(x, { training: false })), labels: tf.tensor1d([1, 3], 'int32') };
        return Object.fromEntries(Object.entries(inst.losses(step)).map(([k, v]) => [k, value(v)]));
      });
      tf.dispose([x]);
      s.dispose();
      t.dispose();
      return r;
    };
    expect(terms()).toEqual(terms());
  });
});
