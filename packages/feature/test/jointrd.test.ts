import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, tf } from '@kdbench/engine';
import { PartSet, methodContext } from '@kdbench/core';
import { ctxFor, fakeSplit, fwd, leakOf, stepIO, value } from '@kdbench/core/testing';
import { createModel, type HeadOutput } from '@kdbench/models';
import { jointrd, pathWeight } from '../src/jointrd.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('jointrd (Li et al. 2020)', () => {
  it('weights the teacher paths by a half cosine from 1 to dc, then dc', () => {
    // dc 0.5 over 60 epochs: m(e) = 0.5 + 0.5 (1 + cos(pi e / 60)) / 2
    expect(pathWeight(0, 0.5, 60)).toBeCloseTo(1, 10);
    expect(pathWeight(30, 0.5, 60)).toBeCloseTo(0.75, 10);
    expect(pathWeight(60, 0.5, 60)).toBeCloseTo(0.5, 10);
    expect(pathWeight(100, 0.5, 60)).toBe(0.5);
  });

  // Toy networks with 2 stages: [stem, stage1, stage2] of 1x1x2 maps; the teacher's stage 2 and head
  // map a stage-1 feature h to the logits (h0, h1, 0).
  function toy(epochs = 200) {
    const maps = () => [0, 1, 2].map(() => tf.zeros([1, 1, 1, 2]) as tf.Tensor4D);
    const [s, t] = [maps(), maps()];
    const seen: number[] = [];
    const forwardFrom = (from: number, h: tf.Tensor4D): HeadOutput => {
      seen.push(from);
      const v = tf.reshape(h, [1, 2]) as tf.Tensor2D;
      return { logits: tf.concat([v, tf.zeros([1, 1])], 1) as tf.Tensor2D, embedding: v };
    };
    const ctx = { ...ctxFor(jointrd, s, t, {}, epochs), teacher: { id: 'toy', forwardFrom } as never };
    return { inst: jointrd.create(ctx), s, seen, done: () => tf.dispose([...s, ...t]) };
  }

  it("loss by hand: w [m(e) CE(z_1) + CE(z_S)], z_1 the student's stage-1 feature through the teacher's stage 2", () => {
    const { inst, s, seen, done } = toy();
    const h = tf.tensor4d([1, 0], [1, 1, 1, 2]);
    const logits = tf.tensor2d([[1, 2, 0]]);
    const labels = tf.tensor1d([1], 'int32');
    const io = (epoch: number, feature = h) => ({ ...stepIO(fwd([s[0]!, feature, s[2]!], logits), fwd(s), labels), epoch });
    // CE(z_S, 1) = -log(e^2 / (e + e^2 + 1)) = 0.407606; z_1 = (1, 0, 0): CE = -log(1 / (e + 2)) = 1.551445
    const t0 = inst.losses(io(0));
    expect(value(t0.ce!)).toBeCloseTo(0.25 * 0.407606, 5);
    expect(value(t0.paths!)).toBeCloseTo(0.25 * 1 * 1.551445, 5);
    expect(seen).toEqual([1]); // one path: after stage 1 (the last stage has none)
    // epoch 30 of 200 (decay 0.3 -> 60 epochs): m = 0.75
    expect(value(inst.losses(io(30)).paths!)).toBeCloseTo(0.25 * 0.75 * 1.551445, 5);
    // the gradient reaches the student's feature through the teacher path: d CE / d h = softmax(z_1) - onehot(1)
    // = (e, 1, 1) / (e + 2) - (0, 1, 0) = (0.576117, 0.211942 - 1) -> (0.576117, -0.788058) for (h0, h1), times w m = 0.25
    const g = tf.grad((x: tf.Tensor) => inst.losses(io(0, x as tf.Tensor4D)).paths!)(h);
    const [g0, g1] = Array.from(g.dataSync());
    expect(g0).toBeCloseTo(0.25 * 0.576117, 5);
    expect(g1).toBeCloseTo(0.25 * -0.788058, 5);
    expect(leakOf(() => inst.losses(io(0)))).toBe(0);
    tf.dispose([h, logits, labels, g]);
    done();
  });

  it('on real nets: paths after stages 1 and 2 of resnet8 through resnet14; gradients reach the student trunk, never the teacher', () => {
    const student = createModel('resnet8', { numClasses: 10, seed: 0, widthFactor: 0.25 });
    const teacher = createModel('resnet14', { numClasses: 10, seed: 1, widthFactor: 0.25 });
    const ctx = methodContext({ hp: jointrd.defaults, numClasses: 10, student, teacher, train: fakeSplit(20, 10), epochs: 10, batchSize: 2, rng: new Rng(0) });
    const inst = jointrd.create(ctx);
    // the trainer optimises the student only: the method declares no part or network
    expect(new PartSet(inst, student).mainVariables()).toEqual(student.trainableVariables());
    const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 0) as tf.Tensor4D;
    const labels = tf.tensor1d([1, 4], 'int32');
    const paths = () => inst.losses({ ...stepIO(student.forward(x, { training: true }), teacher.forward(x, { training: false }), labels) }).paths!;
    const named = student.namedVariables().filter((n) => n.trainable);
    const { grads } = tf.variableGrads(paths, named.map((n) => n.variable));
    // variables on no path get no gradient entry
    const reached = (name: string) => grads[named.find((n) => n.name === name)!.variable.name]?.dataSync().some((v) => v !== 0) ?? false;
    const trunk = named.filter((n) => /^(conv1|bn1|layer1|layer2)\./.test(n.name)).map((n) => n.name);
    expect(trunk.filter((n) => !reached(n))).toEqual([]); // before the split points
    // the student's own last stage and classifier are on no teacher path
    expect(named.filter((n) => /^(layer3|fc)\./.test(n.name)).map((n) => n.name).filter(reached)).toEqual([]);
    tf.dispose(Object.values(grads));
    const before = teacher.trainableVariables().map((v) => Array.from(v.dataSync()));
    expect(Number.isFinite(tf.tidy(() => value(paths())))).toBe(true);
    expect(teacher.trainableVariables().map((v) => Array.from(v.dataSync()))).toEqual(before);
    tf.dispose([x, labels]);
    student.dispose();
    teacher.dispose();
  });

  it('refuses bad hyperparameters, a teacher that cannot run from a stage and mismatched stages, in one clear line', () => {
    const { done } = toy();
    const maps = (c: number) => [0, 1, 2].map(() => tf.zeros([1, 1, 1, c]) as tf.Tensor4D);
    const teacher = { id: 'toy', forwardFrom: () => { throw new Error('unused'); } } as never;
    const make = (over: Record<string, number>, s = maps(2), t = maps(2), tc: unknown = teacher) => () => jointrd.create({ ...ctxFor(jointrd, s, t, over), teacher: tc as never });
    expect(make({ dc: 1.5 })).toThrow(/jointrd: dc must be a number in \[0, 1\], got 1.5/);
    expect(make({ decay: 0 })).toThrow(/jointrd: decay must be a fraction of the run in \(0, 1\], got 0/);
    expect(make({ w: -1 })).toThrow(/jointrd: w must be a positive number/);
    expect(make({}, maps(2), maps(2), { id: 'vgg8' })).toThrow(/jointrd: the teacher 'vgg8' cannot run from an intermediate stage/);
    expect(make({}, maps(2), maps(4))).toThrow(/the student's stage1 is 2x1x1 and the teacher's \(toy\) 4x1x1/);
    expect(make({}, maps(2), [...maps(2), tf.zeros([1, 1, 1, 2]) as tf.Tensor4D])).toThrow(/different numbers of stages \(2 vs 3\)/);
    done();
  });

  it('has its defaults and paper', () => {
    expect(jointrd.defaults).toEqual({ dc: 0.5, decay: 0.3, w: 0.25 });
    expect(jointrd.teacherOutputs).toBe('logits');
    expect(jointrd.paper?.url).toContain('657b96f0592803e25a4f07166fff289a');
    expect([jointrd.family, jointrd.knowledge, jointrd.scheme, jointrd.teacher]).toEqual(['feature', 'feature', 'offline', 'required']);
  });
});
