/** The knowledge transfer graph on real networks and its search on real CIFAR-10 images (wasm engine, tiny networks). */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { methodContext, type MethodContext, type StepIO } from '@kdbench/core';
import { artifactsOf, CONFORMANCE_PROTOCOL, disposeInstance, leakOf, loadConformanceSplits, metricsOf } from '@kdbench/core/testing';
import type { RunSplits } from '@kdbench/data';
import { initEngine, Rng, tf } from '@kdbench/engine';
import { createModel, type Model } from '@kdbench/models';
import { ktg } from '../src/ktg.js';
import { expectGradients, value } from './helpers.js';
import { dataDir } from './paths.js';

let splits: RunSplits;
beforeAll(async () => {
  await initEngine({ backend: 'wasm' });
  splits = await loadConformanceSplits(dataDir);
});

describe('ktg on real networks', () => {
  let student: Model;
  let teacher: Model;
  const x = () => tf.randomNormal([4, 32, 32, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
  beforeAll(() => {
    student = createModel('resnet8', { numClasses: 10, seed: 0, widthFactor: 0.25 });
    teacher = createModel('resnet8', { numClasses: 10, seed: 1, widthFactor: 0.25 });
  });
  const ctxWith = (over: Partial<typeof ktg.defaults> = {}): MethodContext<typeof ktg.defaults, 'required'> => {
    const ids = Int32Array.from({ length: 20 }, (_, i) => i);
    return methodContext({
      hp: { ...ktg.defaults, ...over }, numClasses: 10, student, teacher, epochs: 4, batchSize: 4, rng: new Rng(2),
      train: { images: new Uint8Array(0), ids, labels: ids.map((i) => i % 10), n: 20 },
    }) as MethodContext<typeof ktg.defaults, 'required'>;
  };
  const io = (xs: tf.Tensor4D): StepIO<'required'> => ({
    x: xs, labels: tf.tensor1d([0, 1, 2, 3], 'int32'), ids: new Int32Array(4), student: student.forward(xs, { training: true }),
    teacher: teacher.forward(xs, { training: false }), epoch: 1, progress: 0.5, step: 0, stage: 'main',
  });

  it('default graph: node 0 and its peer learn from labels, each other and the fixed teacher; gradients reach both', () => {
    const inst = ktg.create(ctxWith());
    const peer = inst.procedure!.networks!.node1!.model;
    expect(inst.procedure!.networks!.node1!.trainInMain).toBe(true);
    const xs = x();
    const terms = inst.losses(io(xs));
    expect(Object.keys(terms).sort()).toEqual(['ce', 'kl1', 'kl2', 'node1/ce', 'node1/kl0', 'node1/kl2']);
    expectGradients(() => inst.losses(io(xs)), [...student.trainableVariables(), ...peer.trainableVariables()]);
    tf.tidy(() => {
      // the teacher is a detached source: whatever reaches its variables is zero
      const { grads } = tf.variableGrads(() => tf.addN(Object.values(inst.losses(io(xs)))) as tf.Scalar, teacher.trainableVariables());
      for (const g of Object.values(grads)) expect(tf.max(tf.abs(g)).dataSync()[0]).toBe(0);
    });
    expect(leakOf(() => inst.losses(io(xs)))).toBe(0);
    const again = ktg.create(ctxWith());
    expect(Object.values(again.losses(io(xs))).map(value)).toEqual(Object.values(ktg.create(ctxWith()).losses(io(xs))).map(value));
    const m = metricsOf(inst, (model) => ({ top1: model === teacher ? 50 : model === peer ? 20 : -1, top5: 0 }));
    expect(m).toEqual({ node1_top1: 20, node2_top1: 50 });
    [inst, again].forEach((i) => disposeInstance(i));
    xs.dispose();
  });

  it('the linear gate follows (epoch + progress) / epochs of the main stage', () => {
    const inst = ktg.create(ctxWith({ gates: 'through cutoff linear / through through cutoff / cutoff cutoff cutoff' }));
    const through = ktg.create(ctxWith({ gates: 'through cutoff through / through through cutoff / cutoff cutoff cutoff' }));
    const xs = x();
    // epoch 1, progress 0.5 of 4 epochs: weight 1.5 / 4 = 0.375
    expect(value(inst.losses(io(xs)).kl2!)).toBeCloseTo(0.375 * value(through.losses(io(xs)).kl2!), 5);
    [inst, through].forEach((i) => disposeInstance(i));
    xs.dispose();
  });

  it('refuses bad hyperparameters', () => {
    expect(() => ktg.create(ctxWith({ T: 0 }))).toThrow(/ktg: T must be > 0, got 0/);
    expect(() => ktg.create(ctxWith({ search: -1 }))).toThrow(/search must be an integer >= 0/);
    expect(() => ktg.create(ctxWith({ searchEpochs: 0 }))).toThrow(/searchEpochs must be a positive integer/);
    expect(() => ktg.create(ctxWith({ validation: 1 }))).toThrow(/validation must be in \(0, 1\), got 1/);
    expect(() => ktg.create(ctxWith({ gates: 'through' }))).toThrow(/gates must be 3 rows/);
  });

});

describe('ktg search', () => {
  it('scores random graphs by short trainings on held-out training rows, keeps the best by successive halving; seeded, no leak', () => {
    const student = createModel('resnet8', { numClasses: 10, seed: 0, widthFactor: 0.25 });
    const teacher = createModel('resnet8', { numClasses: 10, seed: 1, widthFactor: 0.25 });
    const run = () => {
      const ctx = methodContext({
        hp: { ...ktg.defaults, search: 3, searchEpochs: 1 }, numClasses: 10, student, teacher, train: splits.train, epochs: 2,
        batchSize: 20, rng: new Rng(5), probe: { dataset: 'cifar10', protocol: CONFORMANCE_PROTOCOL, seed: 5, lr: 0.05 },
      }) as MethodContext<typeof ktg.defaults, 'required'>;
      const inst = ktg.create(ctx);
      const m = metricsOf(inst, () => ({ top1: 0, top5: 0 }));
      const dir = mkdtempSync(join(tmpdir(), 'ktg-'));
      const [file] = artifactsOf(inst, dir);
      disposeInstance(inst);
      return { m, record: JSON.parse(readFileSync(join(dir, file!), 'utf8')) };
    };
    const before = tf.memory().numTensors;
    const a = run();
    expect(tf.memory().numTensors).toBe(before); // every trial's networks are disposed
    expect(a.m.candidates).toBe(3);
    // rung 0 (1 epoch): 3 trials, the better 2 go on; rung 1 (2 epochs): the better of the 2 wins
    const trials = a.record.search.trials as { gates: string; scores: { epochs: number; top1: number }[] }[];
    expect(trials.map((t) => t.scores.map((s) => s.epochs)).sort()).toEqual([[1], [1, 2], [1, 2]]);
    const finalists = trials.map((t, i) => [i, t.scores] as const).filter(([, s]) => s.length === 2);
    const best = finalists.reduce((x, y) => (y[1][1]!.top1 > x[1][1]!.top1 ? y : x))[0];
    expect(a.m.searched_candidate).toBe(best);
    // each candidate's held-out top-1 and epochs at the last rung it reached
    trials.forEach((t, i) => expect([a.m[`candidate_${i}_top1`], a.m[`candidate_${i}_epochs`]]).toEqual([t.scores.at(-1)!.top1, t.scores.at(-1)!.epochs]));
    expect(a.record.gates).toBe(trials[best]!.gates);
    const { search_seconds: _s, ...rest } = a.m;
    const { search_seconds: _t, ...again } = run().m;
    expect(again).toEqual(rest);
    student.dispose();
    teacher.dispose();
  }, 60_000);
});
