import { fork } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Table, tableToIPC, vectorFromArray, Utf8 } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { appendResults, readResults } from '../src/results/arrow-store.js';
import { mergeResults } from '../src/results-merge.js';
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
  it('combines files, deduplicating by run id (first file wins)', () => {
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
