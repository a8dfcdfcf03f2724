/**
 * Through the trainer (data: 'none'): a run with checkpoints that is interrupted after its first
 * epoch and resumed repeats the uninterrupted run (generator weights, synthesis state and counters
 * are checkpointed), and the synthesis numbers reach the run's extra accuracies.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { methodContext, train, type MethodDefinition, type TrainResult } from '@kdbench/core';
import { CONFORMANCE_PROTOCOL, loadConformanceSplits, metricsOf, disposeInstance } from '@kdbench/core/testing';
import type { RunSplits } from '@kdbench/data';
import { initEngine, Rng } from '@kdbench/engine';
import { createModel } from '@kdbench/models';
import { dafl, deepinv } from '../src/index.js';
import { dataDir } from './paths.js';

let splits: RunSplits;
beforeAll(async () => {
  await initEngine({ backend: 'wasm' });
  splits = await loadConformanceSplits(dataDir);
});

function run(def: MethodDefinition<any>, file: string, stopAfterEpoch?: number): { result?: TrainResult; extra: Record<string, number> } {
  const student = createModel('resnet8', { numClasses: 10, seed: 1, widthFactor: 0.25 });
  const teacher = createModel('resnet14', { numClasses: 10, seed: 2, widthFactor: 0.25 });
  const method = def.create(methodContext({
    hp: { ...def.defaults, ...def.smallHyper }, numClasses: 10, student, teacher, train: splits.train, epochs: 2, batchSize: 20, rng: new Rng(1), data: 'none',
  }));
  try {
    const result = train({
      dataset: 'cifar10', splits, protocol: CONFORMANCE_PROTOCOL, lr: 0.05, seed: 1, student, teacher, method, data: 'none', checkpointFile: file,
      onEvent: (e) => {
        if (stopAfterEpoch !== undefined && e.type === 'epoch' && e.record.epoch === stopAfterEpoch) throw new Error('interrupted');
      },
    });
    return { result, extra: metricsOf(method, (m) => ({ top1: 0, top5: 0 })) };
  } catch (e) {
    if ((e as Error).message !== 'interrupted') throw e;
    return { extra: {} };
  } finally {
    disposeInstance(method);
    student.dispose();
    teacher.dispose();
  }
}

describe.each([['dafl', dafl], ['deepinv', deepinv]] as const)('%s through the trainer', (_id, def) => {
  it('resumes from a checkpoint exactly as an uninterrupted run; reports synthesis time and images', () => {
    const dir = mkdtempSync(join(tmpdir(), `kdbench-${def.id}-`));
    const whole = run(def, join(dir, 'whole.ckpt'));
    expect(run(def, join(dir, 'cut.ckpt'), 1).result).toBeUndefined();
    const resumed = run(def, join(dir, 'cut.ckpt'));
    expect(resumed.result!.resumedFromEpoch).toBe(1);
    expect(resumed.result!.history.map((h) => h.losses)).toEqual(whole.result!.history.map((h) => h.losses));
    expect(resumed.result!.last).toEqual(whole.result!.last);
    expect(resumed.extra.images_generated).toBe(whole.extra.images_generated);
    expect(whole.extra.images_generated).toBeGreaterThan(0);
    expect(whole.extra.synthesis_seconds).toBeGreaterThan(0);
  });
});
