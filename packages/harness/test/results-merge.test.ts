import { fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Table, tableToIPC, vectorFromArray, Utf8 } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { appendResults, readResults } from '../src/results/arrow-store.js';
import { mergeResults } from '../src/results-merge.js';
import { repairResults } from '../src/results/repair.js';
import { main } from '../src/cli/main.js';
import { EXIT } from '../src/cli/errors.js';
import { ConfigError } from '@kdbench/core';
import { fakeRow } from './fixtures/rows.js';

const appender = fileURLToPath(new URL('./fixtures/append-rows.ts', import.meta.url));

describe('results file under concurrent writers', () => {
  it('four processes appending at once lose no row', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'kdb-conc-')), 'results.arrow');
    const codes = await Promise.all([0, 1, 2, 3].map((p) => new Promise<number | null>((resolve) => {
      fork(appender, [file, `p${p}`, '12'], { execArgv: ['--import', 'tsx'], stdio: 'inherit' }).on('exit', resolve);
    })));
    expect(codes).toEqual([0, 0, 0, 0]);
    const ids = readResults(file).map((r) => r.run_id);
    expect(ids).toHaveLength(48);
    expect(new Set(ids).size).toBe(48);
  });

  it('a lock left by a killed writer on this host is broken at once', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'kdb-lock-')), 'results.arrow');
    writeFileSync(`${file}.lock`, `${hostname()} 2147483646`);
    const t0 = Date.now();
    appendResults(file, [fakeRow('a')]);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(readResults(file)).toHaveLength(1);
  });
});

describe('kdbench results merge', () => {
  it('combines files, deduplicating by run id (on equal dates the first file wins)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kdb-merge-'));
    const a = join(dir, 'a.arrow');
    const b = join(dir, 'b.arrow');
    appendResults(a, [fakeRow('r1'), fakeRow('r2', { best_top1: 1 })]);
    appendResults(b, [fakeRow('r2', { best_top1: 2 }), fakeRow('r3')]);
    const out = mergeResults([a, b], join(dir, 'c.arrow'));
    expect(out.perFile.map((f) => f.duplicates)).toEqual([0, 1]);
    const rows = readResults(join(dir, 'c.arrow'));
    expect(rows.map((r) => r.run_id)).toEqual(['r1', 'r2', 'r3']);
    expect(rows[1]!.best_top1).toBe(1);
  });

  it('keeps the later run of a run id, whichever file lists it first (a rerun replaces the earlier run)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kdb-merge-'));
    const [older, newer] = [join(dir, 'older.arrow'), join(dir, 'newer.arrow')];
    appendResults(older, [fakeRow('r1', { best_top1: 47.3, date: '2026-11-27T21:12:00Z' }), fakeRow('r2')]);
    appendResults(newer, [fakeRow('r1', { best_top1: 46.3, date: '2026-12-07T06:57:00Z' })]);
    for (const [i, order] of [[older, newer], [newer, older]].entries()) {
      const out = join(dir, `merged-${i}.arrow`);
      expect(mergeResults(order, out).perFile.map((f) => f.duplicates)).toEqual([0, 1]);
      expect(readResults(out).map((r) => `${r.run_id} ${r.best_top1}`).sort()).toEqual(['r1 46.3', 'r2 10']);
    }
  });

  it('refuses files whose schema differs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kdb-merge-'));
    const a = join(dir, 'a.arrow');
    appendResults(a, [fakeRow('r1')]);
    const other = join(dir, 'other.arrow');
    writeFileSync(other, tableToIPC(new Table({ run_id: vectorFromArray(['x'], new Utf8()) }), 'file'));
    expect(() => mergeResults([a, other], join(dir, 'c.arrow'))).toThrow(/schema mismatch between .*a\.arrow and .*other\.arrow: column 'method' is in .*; and \d+ more$/);
    expect(() => mergeResults([other], join(dir, 'c.arrow'))).toThrow(/not a kdbench results file of this version/);
  });
});

describe('kdbench results merge never destroys rows', () => {
  it('refuses an existing --out that is not an input, and leaves it byte-identical', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kdb-merge-'));
    const a = join(dir, 'a.arrow');
    const existing = join(dir, 'existing.arrow');
    appendResults(a, [fakeRow('r1')]);
    appendResults(existing, [fakeRow('e1'), fakeRow('e2')]);
    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'my notes');
    const before = readFileSync(existing);
    expect(() => mergeResults([a], existing)).toThrow(/--out .*existing\.arrow already exists and is not one of the files to merge: list it among them to merge into it, or add --force to replace it/);
    expect(readFileSync(existing).equals(before)).toBe(true);
    expect(() => mergeResults([a], text)).toThrow(ConfigError);
    expect(readFileSync(text, 'utf8')).toBe('my notes');
    // through the CLI: one line, the usage exit code
    const errors: string[] = [];
    const orig = console.error;
    console.error = (m: string) => errors.push(m);
    try {
      expect(await main(['results', 'merge', a, '--out', existing])).toBe(EXIT.usage);
    } finally {
      console.error = orig;
    }
    expect(errors).toEqual([expect.stringMatching(/^kdbench results: --out .*existing\.arrow already exists/)]);
    expect(readFileSync(existing).equals(before)).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['a.arrow', 'existing.arrow', 'notes.txt']);
  });

  it('merges into an existing --out listed among the inputs, keeping all its rows; --force replaces it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kdb-merge-'));
    const a = join(dir, 'a.arrow');
    const existing = join(dir, 'existing.arrow');
    appendResults(a, [fakeRow('r1'), fakeRow('e2', { best_top1: 99 })]);
    appendResults(existing, [fakeRow('e1'), fakeRow('e2')]);
    mergeResults([existing, a], existing);
    expect(readResults(existing).map((r) => [r.run_id, r.best_top1])).toEqual([['e1', 10], ['e2', 10], ['r1', 10]]);
    mergeResults([a], existing, { force: true });
    expect(readResults(existing).map((r) => r.run_id)).toEqual(['r1', 'e2']);
  });

  it('--out on a folder fails with one line and leaves no temporary file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kdb-merge-'));
    const a = join(dir, 'a.arrow');
    appendResults(a, [fakeRow('r1')]);
    const folder = join(dir, 'out');
    mkdirSync(folder);
    const errors: string[] = [];
    const orig = console.error;
    console.error = (m: string) => errors.push(m);
    try {
      expect(await main(['results', 'merge', a, '--out', folder])).toBe(EXIT.io);
      expect(await main(['results', 'merge', a, '--out', folder, '--force'])).toBe(EXIT.io);
    } finally {
      console.error = orig;
    }
    expect(errors).toEqual([
      expect.stringMatching(/^kdbench results: --out .*out is a folder; give a file name, e\.g\. .*out\/results\.arrow$/),
      expect.stringMatching(/^kdbench results: --out .*out is a folder/),
    ]);
    expect(readdirSync(dir).sort()).toEqual(['a.arrow', 'out']);
    expect(readdirSync(folder)).toEqual([]);
  });
});

describe('kdbench results repair', () => {
  /** A results folder as runs leave it: a run record per run and the rows in results.arrow. */
  function resultsFolder(ids: string[]): string {
    const dir = mkdtempSync(join(tmpdir(), 'kdb-repair-'));
    for (const [i, id] of ids.entries()) {
      const row = fakeRow(id, { best_top1: 10 + i, date: `2025-01-0${i + 1}T00:00:00Z` });
      mkdirSync(join(dir, 'runs', id), { recursive: true });
      writeFileSync(join(dir, 'runs', id, 'run.json'), JSON.stringify(row, null, 2));
      appendResults(join(dir, 'results.arrow'), [row]);
    }
    return dir;
  }

  it('restores every row of a truncated results.arrow from the run records and keeps the damaged file', async () => {
    const ids = ['aaaa', 'bbbb', 'cccc', 'dddd', 'eeee'];
    const dir = resultsFolder(ids);
    const file = join(dir, 'results.arrow');
    const rows = readResults(file);
    const whole = readFileSync(file);
    writeFileSync(file, whole.subarray(0, Math.floor(whole.length / 2))); // a full disk, a cut copy
    const truncated = readFileSync(file);
    expect(() => readResults(file)).toThrow(`${file} is truncated or damaged (not a readable Arrow file); rebuild it from the run records `
      + `in ${join(dir, 'runs')} with 'kdbench results repair --results ${dir}' (the damaged file is kept beside it)`);

    const out: string[] = [];
    const orig = console.log;
    console.log = (m: string) => out.push(m);
    try {
      expect(await main(['results', 'repair', '--results', dir])).toBe(0);
    } finally {
      console.log = orig;
    }
    expect(readResults(file)).toEqual(rows);
    const damaged = readdirSync(dir).filter((f) => f.startsWith('results.arrow.damaged-'));
    expect(damaged).toHaveLength(1);
    expect(readFileSync(join(dir, damaged[0]!)).equals(truncated)).toBe(true);
    expect(out).toEqual([`the damaged file is kept as ${join(dir, damaged[0]!)}`, `${file}: 5 rows (5 from run records)`]);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-') || f.endsWith('.lock'))).toEqual([]);
  });

  it('keeps a readable file\'s rows (also merged ones without a run record) and adds the recorded runs it lacks', () => {
    const dir = resultsFolder(['aaaa', 'bbbb']);
    const file = join(dir, 'results.arrow');
    appendResults(file, [fakeRow('merged-from-elsewhere')]);
    const late = fakeRow('cccc', { date: '2025-02-01T00:00:00Z' });
    mkdirSync(join(dir, 'runs', 'cccc'));
    writeFileSync(join(dir, 'runs', 'cccc', 'run.json'), JSON.stringify(late)); // recorded, but its append was interrupted
    mkdirSync(join(dir, 'runs', 'dddd')); // an unfinished run: no record
    mkdirSync(join(dir, 'runs', 'eeee'));
    writeFileSync(join(dir, 'runs', 'eeee', 'run.json'), '{ "run_id": "other" }');
    const r = repairResults(dir);
    expect(r).toMatchObject({ rows: 4, fromFile: 3, fromRuns: 1, written: true });
    expect(r.damagedCopy).toBeUndefined();
    expect(r.skipped).toEqual([{ file: join(dir, 'runs', 'eeee', 'run.json'), reason: 'its run_id "other" is not its folder\'s name eeee' }]);
    expect(readResults(file).map((x) => x.run_id)).toEqual(['aaaa', 'bbbb', 'merged-from-elsewhere', 'cccc']);
    expect(repairResults(dir)).toMatchObject({ rows: 4, written: false });
  });
});
