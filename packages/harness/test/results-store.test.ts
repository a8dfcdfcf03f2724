import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appendResults, readResults, ResultsFileError } from '../src/results/arrow-store.js';
import type { ResultRow } from '../src/results/schema.js';

export function fakeRow(id: string, top1: number): ResultRow {
  return {
    run_id: id, method: 'kd', family: 'response', knowledge: 'response', scheme: 'offline', dataset: 'cifar10',
    split: 'test', split_description: 'test (1000)', teacher: 'resnet20', student: 'resnet8', protocol: 'smoke',
    protocol_label: 'smoke', seed: 1, epochs: 1, best_top1: top1, best_top5: 90, best_epoch: 1, last_top1: top1,
    last_top5: 90, wall_seconds: 1.5, train_seconds: 1, images_per_second: 100, backend: 'wasm', backend_reason: 'r',
    teacher_hash: 'abc', teacher_top1: null, student_params: 1000, student_flops: 1e6, git_commit: 'x', date: '2026-01-01',
    hyperparameters: '{"T":4}', details: '{}',
  };
}

describe('Arrow results file', () => {
  it('appends rows, keeps earlier ones, and replaces a rerun of the same run id', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kdb-results-'));
    const file = join(dir, 'results.arrow');
    expect(readResults(file)).toEqual([]);
    appendResults(file, [fakeRow('a', 50)]);
    appendResults(file, [fakeRow('b', 60)]);
    appendResults(file, [fakeRow('a', 55)]);
    const rows = readResults(file);
    expect(rows.map((r) => [r.run_id, r.best_top1])).toEqual([['b', 60], ['a', 55]]);
    expect(rows[0]).toEqual(fakeRow('b', 60));
    // no temporary or lock files are left behind
    expect(readdirSync(dir)).toEqual(['results.arrow']);
  });

  it('reports a corrupt file clearly instead of overwriting it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kdb-results-'));
    const file = join(dir, 'results.arrow');
    writeFileSync(file, 'not arrow at all');
    expect(() => readResults(file)).toThrow(ResultsFileError);
    expect(() => appendResults(file, [fakeRow('a', 1)])).toThrow(/results\.arrow is truncated or damaged \(not a readable Arrow file\)$/);
    // some bytes decode as an Arrow table without columns: damaged too, not 'missing columns' (all 32 of them)
    writeFileSync(file, 'damaged');
    expect(() => readResults(file)).toThrow(/results\.arrow is truncated or damaged \(not a readable Arrow file\)$/);
  });
});
