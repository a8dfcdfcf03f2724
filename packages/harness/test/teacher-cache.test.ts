import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TeacherStore, getProtocol, withOverrides } from '@kdbench/core';
import { batches, loadCifar, makeRunSplits } from '@kdbench/data';
import { kernelSetName, tf } from '@kdbench/engine';
import { runOne, type RunRequest } from '../src/run.js';
import { TeacherLogitsFiles } from '../src/teacher-cache.js';
import { dataDir } from './paths.js';

const quiet = () => {};

describe('teacher-output cache (kd, smoke, wasm)', () => {
  it('cached logits equal recomputed ones exactly, and runs with the cache equal runs without it', async () => {
    const overrides = { epochs: 2 };
    const request = (resultsDir: string, patch: Partial<RunRequest> = {}): RunRequest => ({
      dataset: 'cifar10', method: 'kd', teacher: 'resnet8', student: 'resnet8', protocol: 'smoke', seed: 5,
      protocolOverrides: overrides, dataDir, resultsDir, backend: 'wasm', log: quiet, ...patch,
    });
    const teachers = join(mkdtempSync(join(tmpdir(), 'kdb-tc-')), 'teachers');
    const without = await runOne(request(mkdtempSync(join(tmpdir(), 'kdb-tc-off-')), { teachersDir: teachers, teacherCache: false }));
    const writing = await runOne(request(mkdtempSync(join(tmpdir(), 'kdb-tc-w-')), { teachersDir: teachers, teacherCache: true }));
    const reading = await runOne(request(mkdtempSync(join(tmpdir(), 'kdb-tc-r-')), { teachersDir: teachers, teacherCache: true }));
    const details = (r: typeof without) => JSON.parse(r.row.details);
    expect(details(without).teacherLogitsCache).toBeNull();
    expect(details(writing).teacherLogitsCache).toEqual({ hits: 0, misses: 2 });
    expect(details(reading).teacherLogitsCache).toEqual({ hits: 2, misses: 0 });
    const outcome = (r: typeof without) => [details(r).history.map((h: { losses: unknown; eval: unknown }) => [h.losses, h.eval]),
      r.row.best_top1, r.row.last_top1, r.row.last_top5, r.row.teacher_hash];
    expect(outcome(writing)).toEqual(outcome(without));
    expect(outcome(reading)).toEqual(outcome(without));

    // the stored logits are bit-identical to a fresh teacher forward pass over the same stream
    const store = new TeacherStore(teachers);
    const [entry] = store.list();
    const teacher = await store.load(entry!);
    const protocol = withOverrides(getProtocol('smoke'), overrides);
    const data = await loadCifar('cifar10', { dataDir });
    const splits = makeRunSplits(data, { seed: 0, trainPerClass: protocol.trainPerClass, evalPerClass: protocol.evalPerClass, holdoutPerClass: protocol.holdoutPerClass });
    const cache = new TeacherLogitsFiles(join(teachers, entry!.name), {
      teacherHash: entry!.sha256, dataset: 'cifar10', split: splits.description, trainSize: splits.train.n,
      batchSize: protocol.batchSize, augment: protocol.augment, backend: kernelSetName('wasm'),
    });
    for (const epoch of [0, 1]) {
      const seed = 5 * 1000; // the trainer's stream seed of the main stage: seed * 1000 + stage index
      const cached = cache.read(seed, epoch)!;
      expect(cached.classes).toBe(10);
      const fresh: number[] = [];
      for (const b of batches(splits.train, 'cifar10', { batchSize: protocol.batchSize, seed, epoch, shuffle: true, augment: protocol.augment })) {
        tf.tidy(() => fresh.push(...teacher.forward(b.x, { training: false }).logits.dataSync()));
        tf.dispose([b.x, b.y]);
      }
      expect(Array.from(cached.values)).toEqual(fresh);
    }
    teacher.dispose();
  });

  it('holds several teachers: a multi-teacher run reads every extra teacher from the cache and trains the same', async () => {
    const request = (resultsDir: string, teachersDir: string, teacherCache: boolean): RunRequest => ({
      dataset: 'cifar10', method: 'avgkd', teacher: 'resnet8', student: 'resnet8', protocol: 'smoke', seed: 2,
      protocolOverrides: { epochs: 1 }, hp: { teachers: 'teacher:1,teacher:2' }, dataDir, resultsDir, teachersDir, backend: 'wasm',
      log: quiet, teacherCache,
    });
    const teachers = join(mkdtempSync(join(tmpdir(), 'kdb-tcm-')), 'teachers');
    const without = await runOne(request(mkdtempSync(join(tmpdir(), 'kdb-tcm-off-')), teachers, false));
    const writing = await runOne(request(mkdtempSync(join(tmpdir(), 'kdb-tcm-w-')), teachers, true));
    const reading = await runOne(request(mkdtempSync(join(tmpdir(), 'kdb-tcm-r-')), teachers, true));
    const details = (r: typeof without) => JSON.parse(r.row.details);
    const caches = (r: typeof without) => [details(r).teacherLogitsCache, ...details(r).extraTeachers.map((t: { logitsCache: unknown }) => t.logitsCache)];
    expect(caches(without)).toEqual([null, null, null]);
    expect(caches(writing)).toEqual([{ hits: 0, misses: 1 }, { hits: 0, misses: 1 }, { hits: 0, misses: 1 }]);
    expect(caches(reading)).toEqual([{ hits: 1, misses: 0 }, { hits: 1, misses: 0 }, { hits: 1, misses: 0 }]);
    const outcome = (r: typeof without) => [details(r).history.map((h: { losses: unknown; eval: unknown }) => [h.losses, h.eval]), r.row.last_top1, details(r).extra];
    expect(outcome(writing)).toEqual(outcome(without));
    expect(outcome(reading)).toEqual(outcome(without));
  });
});
