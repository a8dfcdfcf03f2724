/**
 * End to end on real data: with a trained teacher (a committed fixture made by `kdbench teachers
 * train`, see fixtures/README.md), Hinton's KD gives a resnet8 student a clearly higher test
 * accuracy than the same student trained from labels alone, same seed, same 2,000 images.
 */
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runOne, type RunRequest } from '../src/run.js';
import { dataDir } from './paths.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/teachers', import.meta.url));
// must match the settings the fixture teacher was trained with (fixtures/README.md)
const SETTINGS = { trainPerClass: 200, evalPerClass: 100, widthFactor: 0.5, teacherEpochs: 30, epochs: 12 };
const MARGIN = 2; // percentage points; measured: KD 44.5 vs vanilla 40.1 (seed 1, wasm)

describe('KD beats vanilla on real CIFAR-10 (fixture teacher resnet20 -> resnet8)', () => {
  it(`improves last-epoch top-1 by more than ${MARGIN} points`, async () => {
    const results = mkdtempSync(join(tmpdir(), 'kdb-kdvv-'));
    const teachersDir = join(results, 'teachers');
    cpSync(FIXTURE, teachersDir, { recursive: true }); // the run may add cached teacher outputs
    const base: RunRequest = {
      dataset: 'cifar10', method: 'vanilla', student: 'resnet8', teacher: 'resnet20', protocol: 'smoke', seed: 1,
      protocolOverrides: SETTINGS, dataDir, resultsDir: results, teachersDir, backend: 'wasm', log: () => {},
    };
    const kd = await runOne({ ...base, method: 'kd' });
    expect(kd.row.teacher_hash).toBe('5b54c22ec43994b83297c94833268ac08196809cc9ee9cec17001db0353a4b60');
    expect(kd.row.teacher_top1).toBeCloseTo(53.6, 5);
    const vanilla = await runOne({ ...base, method: 'vanilla', teacher: undefined });
    console.log(`KD ${kd.row.last_top1.toFixed(1)} vs vanilla ${vanilla.row.last_top1.toFixed(1)} (teacher ${kd.row.teacher_top1})`);
    expect(kd.row.last_top1 - vanilla.row.last_top1).toBeGreaterThan(MARGIN);
  }, 900_000);
});
