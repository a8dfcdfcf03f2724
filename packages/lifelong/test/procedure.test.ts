import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { methodContext, train, type MethodDefinition, type MethodInstance, type TrainResult, type TrainSpec } from '@kdbench/core';
import { CONFORMANCE_PROTOCOL, buffersOf, disposeInstance, loadConformanceSplits, metricsOf, stagesOf } from '@kdbench/core/testing';
import type { RunSplits } from '@kdbench/data';
import { Rng, initEngine, tf } from '@kdbench/engine';
import { createModel } from '@kdbench/models';
import { finetune, icarl, incrementalSummary, joint, lwf, ExemplarMemory } from '../src/index.js';
import { dataDir } from './paths.js';

/** Trains a lifelong method through the real trainer: tasks 1..4 are its stages, task 5 the main stage. */
function run(def: MethodDefinition<any>, splits: RunSplits, hp: Record<string, unknown> = {}, seed = 3, extra: Partial<TrainSpec> = {}) {
  const student = createModel('resnet8', { numClasses: 10, seed, widthFactor: 0.25 });
  const inst = def.create(methodContext({
    hp: { ...def.defaults, ...hp }, numClasses: 10, student, train: splits.train, epochs: 1, batchSize: 20, rng: new Rng(seed),
  }));
  const rowCounts: number[] = [];
  const counting = (rows: () => Int32Array) => () => {
    const r = rows();
    rowCounts.push(r.length);
    return r;
  };
  const main = inst.procedure!.main!;
  const method: MethodInstance = {
    ...inst,
    procedure: { ...inst.procedure, stages: stagesOf(inst).map((s) => ({ ...s, rows: counting(s.rows!) })), main: { ...main, rows: counting(main.rows!) } },
  };
  const protocol = { ...CONFORMANCE_PROTOCOL, epochs: 1 };
  const result: TrainResult = train({ dataset: 'cifar10', splits, protocol, lr: 0.05, seed, student, method, ...extra });
  return { inst, student, result, rowCounts, records: result.metrics };
}

describe('class-incremental procedure on real images (5 tasks of 2 CIFAR-10 classes)', () => {
  let splits: RunSplits;
  beforeAll(async () => {
    await initEngine({ backend: 'wasm' });
    splits = await loadConformanceSplits(dataDir); // 4 training images per class
  });

  it('fine-tuning: trains task by task and reports per-task accuracies and the lifelong metrics', () => {
    const before = tf.memory().numTensors;
    const r = run(finetune, splits);
    expect(r.rowCounts).toEqual([8, 8, 8, 8, 8]);
    const rec = r.records;
    const seen = [1, 2, 3, 4, 5].map((k) => rec[`acc_after_task_${k}`]!);
    const perTask = [1, 2, 3, 4, 5].map((k) => Array.from({ length: k }, (_, j) => rec[`acc_task_${j + 1}_after_task_${k}`]!));
    for (const x of [...seen, ...perTask.flat()]) expect(x).toBeGreaterThanOrEqual(0);
    const s = incrementalSummary(seen, perTask);
    expect(rec.average_incremental_accuracy).toBeCloseTo(s.averageIncremental, 6);
    expect(rec.last_accuracy).toBe(seen[4]);
    expect(rec.forgetting).toBeCloseTo(s.forgetting, 6);
    expect(r.result.last.top1).toBeCloseTo(rec.last_accuracy!, 4); // the main stage's accuracy is the accuracy after the last task (float32 table)
    expect(r.result.history.map((h) => h.stage)).toEqual(['task1', 'task2', 'task3', 'task4', 'main']);
    expect(metricsOf(r.inst, () => ({ top1: 0, top5: 0 }))).toEqual(rec);
    disposeInstance(r.inst);
    // a run whose last task never ended (a trainer ignoring `main`) fails instead of reporting a wrong protocol
    const student = createModel('resnet8', { numClasses: 10, seed: 0, widthFactor: 0.25 });
    const idle = finetune.create(methodContext({ hp: finetune.defaults, numClasses: 10, student, train: splits.train, epochs: 1, batchSize: 20, rng: new Rng(0) }));
    expect(() => metricsOf(idle, () => ({ top1: 0, top5: 0 }))).toThrow(/must honour the procedure's `main`/);
    disposeInstance(idle);
    student.dispose();
    r.student.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('joint training sees every seen class; the records repeat under a seed', () => {
    const a = run(joint, splits);
    expect(a.rowCounts).toEqual([8, 16, 24, 32, 40]);
    const b = run(joint, splits);
    expect(b.records).toEqual(a.records);
    for (const x of [a, b]) {
      disposeInstance(x.inst);
      x.student.dispose();
    }
  });

  it('LwF distils the old tasks from the previous network from the second task on', () => {
    const r = run(lwf, splits);
    const byStage = Object.fromEntries(r.result.history.map((h) => [h.stage, h.losses]));
    expect(Object.keys(byStage.task1!)).not.toContain('kd');
    for (const t of ['task2', 'task3', 'task4', 'main']) expect(byStage[t]!.kd).toBeGreaterThanOrEqual(0);
    // the snapshot is the network after task 4, so it differs from the student after task 5
    const prev = r.inst.procedure!.networks!.previous!.model.trainableVariables()[0]!.dataSync();
    expect([...prev]).not.toEqual([...r.student.trainableVariables()[0]!.dataSync()]);
    expect(r.rowCounts).toEqual([8, 8, 8, 8, 8]);
    disposeInstance(r.inst);
    r.student.dispose();
  });

  it('iCaRL keeps a herding memory of fixed size and trains on task rows plus exemplars', () => {
    // K = 6: m = floor(6 / seen) = 3, 1, 1, 1, 1 exemplars per class after tasks 1..5 (at least 1)
    const before = tf.memory().numTensors;
    const r = run(icarl, splits, { memory: 6, memoryScale: false });
    expect(r.rowCounts).toEqual([8, 8 + 2 * 3, 8 + 4 * 1, 8 + 6 * 1, 8 + 8 * 1]);
    const memory = ExemplarMemory.decode(buffersOf(r.inst).exemplars!.dataSync(), splits.train.labels);
    expect(memory.classes()).toHaveLength(10);
    expect(memory.size).toBe(10);
    for (const c of memory.classes()) for (const row of memory.of(c)) expect(splits.train.labels[row]).toBe(c);
    expect(r.records.last_accuracy).toBeGreaterThanOrEqual(0);
    expect(Object.keys(r.result.history[1]!.losses)).toContain('bce');
    disposeInstance(r.inst);
    r.student.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('iCaRL refuses an unknown loss form', () => {
    const student = createModel('resnet8', { numClasses: 10, seed: 0, widthFactor: 0.25 });
    const ctx = methodContext({ hp: { ...icarl.defaults, form: 'sum' }, numClasses: 10, student, train: splits.train, epochs: 1, batchSize: 20, rng: new Rng(0) });
    expect(() => icarl.create(ctx)).toThrow(/^icarl: form must be one of code, paper, got 'sum'$/);
    student.dispose();
  });

  it('a run interrupted after task 3 resumes with the same memory, snapshot and metrics', () => {
    const hp = { memory: 6, memoryScale: false };
    const whole = run(icarl, splits, hp);
    const dir = mkdtempSync(join(tmpdir(), 'lifelong-'));
    const checkpointFile = join(dir, 'ckpt.kdbt');
    expect(() => run(icarl, splits, hp, 3, {
      checkpointFile, onEvent: (e) => { if (e.type === 'epoch' && e.record.stage === 'task3') throw new Error('killed'); },
    })).toThrow('killed');
    const resumed = run(icarl, splits, hp, 3, { checkpointFile });
    expect(resumed.result.resumedFromEpoch).toBe(3);
    expect(resumed.records).toEqual(whole.records);
    expect([...buffersOf(resumed.inst).exemplars!.dataSync()]).toEqual([...buffersOf(whole.inst).exemplars!.dataSync()]);
    rmSync(dir, { recursive: true });
    for (const x of [whole, resumed]) {
      disposeInstance(x.inst);
      x.student.dispose();
    }
  });
});
