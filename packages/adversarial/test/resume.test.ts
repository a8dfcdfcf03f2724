/**
 * Through the trainer on real images: a run with checkpoints that is interrupted after its first
 * epoch and resumed repeats the uninterrupted run (discriminators, generator and their Adam states
 * are checkpointed), for a discriminator-guided, a generator-augmented and an online method.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { methodContext, train, type MethodDefinition, type TrainResult } from '@kdbench/core';
import { CONFORMANCE_PROTOCOL, loadConformanceSplits, disposeInstance } from '@kdbench/core/testing';
import type { RunSplits } from '@kdbench/data';
import { initEngine, Rng } from '@kdbench/engine';
import { createModel } from '@kdbench/models';
import { abm, afd, cganlogits } from '../src/index.js';
import { dataDir } from './paths.js';

let splits: RunSplits;
beforeAll(async () => {
  await initEngine({ backend: 'wasm' });
  splits = await loadConformanceSplits(dataDir);
});

function run(def: MethodDefinition<any>, file: string, stopAfterEpoch?: number): TrainResult | undefined {
  const student = createModel('resnet8', { numClasses: 10, seed: 1, widthFactor: 0.25 });
  const teacher = def.teacher === 'required' ? createModel('resnet14', { numClasses: 10, seed: 2, widthFactor: 0.25 }) : undefined;
  const method = def.create(methodContext({
    hp: { ...def.defaults, ...def.smallHyper }, numClasses: 10, student, teacher, train: splits.train, epochs: 2, batchSize: 20, rng: new Rng(1),
  }));
  try {
    return train({
      dataset: 'cifar10', splits, protocol: CONFORMANCE_PROTOCOL, lr: 0.05, seed: 1, student, teacher, method, checkpointFile: file,
      onEvent: (e) => {
        if (stopAfterEpoch !== undefined && e.type === 'epoch' && e.record.epoch === stopAfterEpoch) throw new Error('interrupted');
      },
    });
  } catch (e) {
    if ((e as Error).message !== 'interrupted') throw e;
    return undefined;
  } finally {
    disposeInstance(method);
    student.dispose();
    teacher?.dispose();
  }
}

describe.each([['cganlogits', cganlogits], ['abm', abm], ['afd', afd]] as const)('%s through the trainer', (_id, def) => {
  it('resumes from a checkpoint exactly as an uninterrupted run', () => {
    const dir = mkdtempSync(join(tmpdir(), `kdbench-${def.id}-`));
    const whole = run(def, join(dir, 'whole.ckpt'))!;
    expect(run(def, join(dir, 'cut.ckpt'), 1)).toBeUndefined();
    const resumed = run(def, join(dir, 'cut.ckpt'))!;
    expect(resumed.resumedFromEpoch).toBe(1);
    expect(resumed.history.map((h) => h.losses)).toEqual(whole.history.map((h) => h.losses));
    expect(resumed.last).toEqual(whole.last);
    expect(Object.keys(whole.history[0]!.losses).some((k) => k.includes('/'))).toBe(true); // player terms are logged
  });
});
