import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { methodContext, type MethodDefinition } from '@kdbench/core';
import { CONFORMANCE_PROTOCOL, loadConformanceSplits, metricsOf, disposeInstance, artifactsOf } from '@kdbench/core/testing';
import { describeConformance } from '@kdbench/core/testing/vitest';
import type { RunSplits } from '@kdbench/data';
import { Rng, initEngine, tf } from '@kdbench/engine';
import { createModel } from '@kdbench/models';
import { carveValidation, nasevo, nasrandom, rdmOfTensor, rdmUpper } from '../src/index.js';
import { dataDir } from './paths.js';

describe('validation rows carved from the training split', () => {
  it('holds out a seeded, class-balanced fraction disjoint from the probe rows', () => {
    const labels = [0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2];
    const { train, validation } = carveValidation(labels, 0.2, new Rng(1));
    expect(validation.length).toBe(3); // round(0.2 * 5) = 1 per class
    expect([...validation].map((r) => labels[r]).sort()).toEqual([0, 1, 2]);
    expect(train.length + validation.length).toBe(15);
    expect([...train].some((r) => validation.includes(r))).toBe(false);
    expect([...carveValidation(labels, 0.2, new Rng(1)).validation]).toEqual([...validation]);
    expect(() => carveValidation([0, 1], 0.5, new Rng(0))).toThrow(/too few/);
    expect(() => carveValidation(labels, 1, new Rng(0))).toThrow(/in \(0, 1\)/);
  });
});

describe('RDMs on the backend', () => {
  it('equal the plain definition', () => {
    const values = [1, 2, 3, 3, 2, 1, 1, 2, 4, 0.5, -1, 2];
    const t = tf.tensor4d(values, [4, 1, 1, 3]);
    const a = rdmOfTensor(t);
    const b = rdmUpper(new Float32Array(values), 4);
    a.forEach((v, i) => expect(v).toBeCloseTo(b[i]!, 5));
    t.dispose();
  });
});

describe('teacher-guided search on real images', () => {
  let splits: RunSplits;
  beforeAll(async () => {
    await initEngine({ backend: 'wasm' });
    splits = await loadConformanceSplits(dataDir);
  });

  function create(def: MethodDefinition<any>, hp: Record<string, unknown>, seed = 7) {
    const student = createModel('resnet8', { numClasses: 10, seed, widthFactor: 0.25 });
    const teacher = createModel('resnet14', { numClasses: 10, seed: 100, widthFactor: 0.25 });
    const inst = def.create(methodContext({
      hp: { ...def.defaults, ...def.smallHyper, ...hp }, numClasses: 10, student, teacher, train: splits.train,
      epochs: 1, batchSize: 20, rng: new Rng(seed), probe: { dataset: 'cifar10', protocol: CONFORMANCE_PROTOCOL, seed, lr: 0.05 },
    }));
    return { inst, student, teacher, dispose: () => { disposeInstance(inst); student.dispose(); teacher.dispose(); } };
  }

  it('returns a searched student within the budget and reports the search', () => {
    const before = tf.memory().numTensors;
    const run = create(nasevo, {});
    const budget = run.student.flops();
    expect(run.inst.procedure!.student).toBeDefined();
    expect(run.inst.procedure!.student!.flops()).toBeLessThanOrEqual(budget);
    expect(run.inst.procedure!.student!.id).toMatch(/^searchable:/);
    const extra = metricsOf(run.inst, () => ({ top1: 0, top5: 0 }));
    expect(extra.candidates).toBe(3);
    expect(extra.budget_macs).toBe(budget);
    expect(extra.searched_macs).toBe(run.inst.procedure!.student!.flops());
    expect(extra.searched_params).toBe(run.inst.procedure!.student!.paramCount());
    expect(extra.search_seconds).toBeGreaterThan(0);
    for (let i = 0; i < 3; i++) for (const k of ['top1', 'score', 'macs', 'params']) expect(Number.isFinite(extra[`candidate_${i}_${k}`])).toBe(true);
    expect(extra[`candidate_${extra.searched_candidate}_top1`]).toBe(extra.searched_probe_top1);
    const dir = mkdtempSync(join(tmpdir(), 'nas-'));
    expect(artifactsOf(run.inst, dir)).toEqual(['nas-search.json']);
    const log = JSON.parse(readFileSync(join(dir, 'nas-search.json'), 'utf8'));
    expect(log.candidates).toHaveLength(3);
    expect(log.candidates[0].genome.stages).toHaveLength(3);
    rmSync(dir, { recursive: true });
    run.dispose();
    expect(tf.memory().numTensors).toBe(before); // candidates, probes and the searched student leave nothing
  });

  it('repeats itself under a seed, and the KD loss trains the searched student', () => {
    const a = create(nasrandom, {});
    const b = create(nasrandom, {});
    expect(a.inst.procedure!.student!.id).toBe(b.inst.procedure!.student!.id);
    expect(metricsOf(a.inst, () => ({ top1: 0, top5: 0 })).candidate_1_top1).toBe(metricsOf(b.inst, () => ({ top1: 0, top5: 0 })).candidate_1_top1);
    b.dispose();
    const x = tf.randomNormal([4, 32, 32, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const labels = tf.tensor1d([0, 1, 2, 3], 'int32');
    const net = a.inst.procedure!.student!;
    tf.tidy(() => {
      const { grads } = tf.variableGrads(() => {
        const terms = a.inst.losses({
          x, labels, ids: new Int32Array(4), student: net.forward(x, { training: true }), teacher: a.teacher.forward(x, { training: false }),
          epoch: 0, progress: 0, step: 0, stage: 'main',
        });
        expect(Object.keys(terms)).toEqual(['ce', 'kd']);
        return tf.addN(Object.values(terms)) as tf.Scalar;
      }, net.trainableVariables());
      expect(Object.keys(grads).length).toBe(net.trainableVariables().length);
    });
    tf.dispose([x, labels]);
    a.dispose();
  });

  it("scores with TG-SAGE's representational similarity", () => {
    const run = create(nasrandom, { score: 'tgsa', tgsaWeight: 1 });
    const extra = metricsOf(run.inst, () => ({ top1: 0, top5: 0 }));
    // with weight 1 the score is the mean RDM correlation alone
    for (let i = 0; i < 2; i++) {
      expect(Math.abs(extra[`candidate_${i}_score`]!)).toBeLessThanOrEqual(1);
      expect(extra[`candidate_${i}_score`]).not.toBe(0);
      expect(extra[`candidate_${i}_score`]).not.toBe(extra[`candidate_${i}_top1`]);
    }
    run.dispose();
    expect(() => create(nasrandom, { score: 'other' })).toThrow(/score must be 'kd' or 'tgsa'/);
  });
});

describeConformance([nasrandom, nasevo], { dataDir });
