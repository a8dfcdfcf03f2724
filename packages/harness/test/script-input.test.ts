/**
 * The scripts' input boundary (src/cli/script.ts): results files named on a command line must
 * exist, and a run held by two of them counts once (its later-dated row), so that a table of
 * several committed files does not count a shared vanilla row twice.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appendResults } from '../src/results/arrow-store.js';
import { readResultFiles, scriptName } from '../src/cli/script.js';
import { fakeRow } from './fixtures/rows.js';

describe('script input', () => {
  it('reads several results files, one row per run (the later-dated)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kdb-script-input-'));
    const a = join(dir, 'a.arrow');
    const b = join(dir, 'b.arrow');
    appendResults(a, [fakeRow('shared', { date: '2026-12-01T00:00:00Z', best_top1: 40 }), fakeRow('only-a')]);
    appendResults(b, [fakeRow('shared', { date: '2026-12-07T00:00:00Z', best_top1: 41 }), fakeRow('only-b')]);
    for (const files of [[a, b], [b, a]]) {
      const rows = readResultFiles(files);
      expect(rows.map((r) => r.run_id).sort()).toEqual(['only-a', 'only-b', 'shared']);
      expect(rows.find((r) => r.run_id === 'shared')!.best_top1).toBe(41);
    }
  });

  it('refuses a missing file and an empty list, naming what is wrong', () => {
    const missing = join(tmpdir(), 'kdb-no-such-dir', 'results.arrow');
    expect(() => readResultFiles([missing])).toThrow(`${missing}: no such results file`);
    expect(() => readResultFiles([])).toThrow('give at least one results file (.arrow)');
  });

  it('names a script after its file', () => {
    expect(scriptName('file:///repo/benchmarks/scripts/pair-table.ts')).toBe('pair-table');
    expect(scriptName('file:///repo/benchmarks/engine/native-ab.mjs')).toBe('native-ab');
  });
});
