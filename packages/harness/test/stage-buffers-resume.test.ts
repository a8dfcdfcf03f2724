/**
 * Methods whose first stage trains teacher-side modules kept as buffers (TOFD's teacher heads,
 * SSKD's teacher projection head) resume exactly: a run interrupted after its first main-stage
 * epoch and resumed from the checkpoint repeats the uninterrupted run, so the heads' weights and
 * batch-norm statistics come back from the checkpoint, not from their initialisation.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { methodContext, train, type MethodDefinition, type TrainResult } from '@kdbench/core';
import { CONFORMANCE_PROTOCOL, disposeInstance, loadConformanceSplits } from '@kdbench/core/testing';
import type { RunSplits } from '@kdbench/data';
import { initEngine, Rng } from '@kdbench/engine';
import { createModel } from '@kdbench/models';
import { tofd } from '@kdbench/feature';
import { sskd } from '@kdbench/relation';
import { dataDir } from './paths.js';

let splits: RunSplits;
beforeAll(async () => {
  await initEngine({ backend: 'wasm' });
  splits = await loadConformanceSplits(dataDir);
});

/** Stage of 1 epoch, main stage of 2; `stopAfterMainEpoch` (1-based, as records count) interrupts after that epoch. */
function run(def: MethodDefinition<any>, file: string, stopAfterMainEpoch?: number): TrainResult | undefined {
  const student = createModel('resnet8', { numClasses: 10, seed: 1, widthFactor: 0.25 });
  const teacher = createModel('resnet14', { numClasses: 10, seed: 2, widthFactor: 0.25 });
  const method = def.create(methodContext({
    hp: { ...def.defaults }, numClasses: 10, student, teacher, train: splits.train, epochs: 2, batchSize: 20, rng: new Rng(1),
  }));
  try {
    return train({
      dataset: 'cifar10', splits, protocol: CONFORMANCE_PROTOCOL, lr: 0.05, seed: 1, student, teacher, method, checkpointFile: file,
      onEvent: (e) => {
        if (e.type === 'epoch' && e.record.stage === 'main' && e.record.epoch === stopAfterMainEpoch) throw new Error('interrupted');
      },
    });
  } catch (e) {
    if ((e as Error).message !== 'interrupted') throw e;
    return undefined;
  } finally {
    disposeInstance(method);
    student.dispose();
    teacher.dispose();
  }
}

describe.each([['tofd', tofd], ['sskd', sskd]] as const)('%s through the trainer', (_id, def) => {
  it('resumes after its head stage and one main epoch exactly as an uninterrupted run', () => {
    const dir = mkdtempSync(join(tmpdir(), `kdbench-${def.id}-`));
    const whole = run(def, join(dir, 'whole.ckpt'))!;
    expect(whole.history.map((h) => h.stage)).toEqual([`${def.id}-teacher-${def.id === 'tofd' ? 'heads' : 'head'}`, 'main', 'main']);
    expect(run(def, join(dir, 'cut.ckpt'), 1)).toBeUndefined();
    const resumed = run(def, join(dir, 'cut.ckpt'))!;
    expect(resumed.resumedFromEpoch).toBe(2);
    expect(resumed.history.map((h) => h.losses)).toEqual(whole.history.map((h) => h.losses));
    expect(resumed.last).toEqual(whole.last);
  });
});
