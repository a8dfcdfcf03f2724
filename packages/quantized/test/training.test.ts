/**
 * Through the real trainer on real CIFAR-10 images: the conformance kit for the four methods, and a
 * QKD run killed between phases that resumes to the same student, clips and co-studied teacher.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getProtocol, methodContext, train, withOverrides, type MethodInstance } from '@kdbench/core';
import { loadConformanceSplits, metricsOf, disposeInstance } from '@kdbench/core/testing';
import { describeConformance } from '@kdbench/core/testing/vitest';
import type { RunSplits } from '@kdbench/data';
import { initEngine, Rng, tf } from '@kdbench/engine';
import { createModel } from '@kdbench/models';
import { apprentice, qat, qkd, quantdistill, type QuantizedModel } from '../src/index.js';

const dataDir = process.env.KDBENCH_DATA_DIR ?? resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../../shared/datasets');

describeConformance([qat, quantdistill, apprentice, qkd], { dataDir });

let splits: RunSplits;
beforeAll(async () => {
  await initEngine({ backend: 'wasm' });
  splits = await loadConformanceSplits(dataDir);
});

const protocol = withOverrides(getProtocol('smoke'), { epochs: 2, batchSize: 20, widthFactor: 0.25 });
const snapshot = (vars: tf.Variable[]) => vars.map((v) => Array.from(v.dataSync()));

/** QKD at W4A4 for 2 epochs: self-studying 1, co-studying 1, tutoring 2; killed at the `failAt`-th epoch start. */
function run(file?: string, failAt?: number, momentum = protocol.momentum) {
  const student = createModel('resnet8', { numClasses: 10, seed: 1, widthFactor: 0.25 });
  const teacher = createModel('resnet14', { numClasses: 10, seed: 100, widthFactor: 0.25 });
  const inst = qkd.create(methodContext({
    hp: { ...qkd.defaults, selfStudy: 0.5, coStudy: 0.5 }, numClasses: 10, student, teacher, train: splits.train,
    epochs: protocol.epochs, batchSize: protocol.batchSize, rng: new Rng(1),
  }));
  let starts = 0;
  const method: MethodInstance = { ...inst, parts: { ...inst.parts, killer: { onEpochStart: () => { if (++starts === failAt) throw new Error('killed'); } } } };
  const q = inst.procedure!.student as QuantizedModel;
  try {
    const r = train({ dataset: 'cifar10', splits, protocol: { ...protocol, momentum }, lr: 0.05, seed: 1, student, teacher, method, checkpointFile: file });
    return {
      r, weights: snapshot([...q.namedVariables().map((n) => n.variable), ...teacher.namedVariables().map((n) => n.variable)]),
      extra: metricsOf(inst, () => ({ top1: 0, top5: 0 })),
    };
  } finally {
    disposeInstance(inst);
    student.dispose();
    teacher.dispose();
  }
}

describe('qkd through the trainer', () => {
  it('runs its phases in order and resumes a run killed in tutoring to the same weights, clips and co-studied teacher', () => {
    const straight = run();
    expect(straight.r.history.map((h) => `${h.stage}${h.epoch}`)).toEqual(['selfstudy1', 'costudy1', 'main1', 'main2']);
    expect(Object.keys(straight.r.history[1]!.losses).sort()).toEqual(['ce', 'kd', 'teacher_ce', 'teacher_kd', 'total']);
    expect(straight.r.history[1]!.eval).toBeDefined(); // the teacher, scored after co-studying
    expect(straight.extra).toMatchObject({ wbits: 4, abits: 4 });
    // killed in tutoring (epoch 4): the co-studied teacher and the clips must come back from the checkpoint
    const file = join(mkdtempSync(join(tmpdir(), 'kdb-qkd-')), 'ckpt.kdbt');
    expect(() => run(file, 4)).toThrow('killed');
    const resumed = run(file);
    expect(resumed.r.resumedFromEpoch).toBe(3);
    expect(resumed.r.history.map((h) => h.losses)).toEqual(straight.r.history.map((h) => h.losses));
    expect(resumed.weights).toEqual(straight.weights);
  });

  it('resumes a run killed between phases (before co-studying, before tutoring) to the same run', () => {
    // momentum 0: the trainer currently restores the finished stage's momentum into the next stage
    // on resume (reported in /work/notes/quantized.md); without momentum the comparison is exact
    const straight = run(undefined, undefined, 0);
    for (const failAt of [2, 3]) {
      const file = join(mkdtempSync(join(tmpdir(), 'kdb-qkd-')), 'ckpt.kdbt');
      expect(() => run(file, failAt, 0)).toThrow('killed');
      const resumed = run(file, undefined, 0);
      expect(resumed.r.resumedFromEpoch).toBe(failAt - 1);
      expect(resumed.r.history.map((h) => h.losses)).toEqual(straight.r.history.map((h) => h.losses));
      expect(resumed.weights).toEqual(straight.weights);
    }
  });
});
