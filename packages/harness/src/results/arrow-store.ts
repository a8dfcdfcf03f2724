/**
 * The results file: an Apache Arrow IPC file of ResultRow. Appending rewrites the file to a
 * temporary name and renames it, under a lock file, so that concurrent writers (worker processes)
 * never lose a row and a crash leaves the previous complete file.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Float64, Int32, Table, Utf8, tableFromIPC, tableToIPC, vectorFromArray, type Vector } from 'apache-arrow';
import { breakStaleLock, releaseLock, tryCreateLock, writeFileAtomic } from '@kdbench/engine';
import { RESULT_COLUMNS, type ResultRow } from './schema.js';

export class ResultsFileError extends Error {}

export function readResults(file: string): ResultRow[] {
  if (!existsSync(file)) return [];
  let table: Table;
  try {
    table = tableFromIPC(readFileSync(file));
  } catch {
    throw new ResultsFileError(unreadableMessage(file));
  }
  if (table.numCols === 0) throw new ResultsFileError(unreadableMessage(file)); // bytes that are no Arrow file can decode to an empty table
  const missing = Object.keys(RESULT_COLUMNS).filter((c) => !table.getChild(c));
  if (missing.length) throw new ResultsFileError(`${file}: missing columns ${missing.join(', ')}`);
  return table.toArray().map((r) => {
    const o = r.toJSON() as Record<string, unknown>;
    const row: Record<string, unknown> = {};
    for (const c of Object.keys(RESULT_COLUMNS)) row[c] = o[c] ?? null;
    return row as unknown as ResultRow;
  });
}

/**
 * What to say about an Arrow file that cannot be read (truncated by a full disk, damaged by a copy):
 * beside a results folder's run records, how to rebuild it from them.
 */
export function unreadableMessage(file: string): string {
  const dir = dirname(file);
  const runs = join(dir, 'runs');
  return existsSync(runs) && basename(file) === 'results.arrow'
    ? `${file} is truncated or damaged (not a readable Arrow file); rebuild it from the run records in ${runs} with `
      + `'kdbench results repair --results ${dir}' (the damaged file is kept beside it)`
    : `${file} is truncated or damaged (not a readable Arrow file)`;
}

export function encodeResults(rows: ResultRow[]): Uint8Array {
  const columns: Record<string, Vector> = {};
  for (const [name, type] of Object.entries(RESULT_COLUMNS)) {
    const values = rows.map((r) => r[name as keyof ResultRow] as string | number | null);
    columns[name] =
      type === 'utf8'
        ? vectorFromArray(values as (string | null)[], new Utf8())
        : vectorFromArray(values as (number | null)[], type === 'int32' ? new Int32() : new Float64());
  }
  return tableToIPC(new Table(columns), 'file');
}

/** Appends rows atomically; rows whose run_id is already present are replaced (a rerun). */
export function appendResults(file: string, rows: ResultRow[]): void {
  withLock(`${file}.lock`, () => {
    const ids = new Set(rows.map((r) => r.run_id));
    const kept = readResults(file).filter((r) => !ids.has(r.run_id));
    writeFileAtomic(file, encodeResults([...kept, ...rows]));
  });
}

/**
 * Runs `fn` holding `lockFile` (see @kdbench/engine lock files): a lock whose holder died on this
 * host is broken at once; any lock older than `staleMs` is broken.
 */
export function withLock<T>(lockFile: string, fn: () => T, staleMs = 60_000): T {
  const deadline = Date.now() + 120_000;
  while (!tryCreateLock(lockFile)) {
    breakStaleLock(lockFile, staleMs);
    if (Date.now() > deadline) throw new ResultsFileError(`${lockFile}: could not take the results lock within 120 s`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
  try {
    return fn();
  } finally {
    releaseLock(lockFile);
  }
}
