/**
 * `kdbench results repair`: rebuilds a results folder's results.arrow from the run records
 * (`runs/<run id>/run.json`, written by every run before its row is appended). A damaged file is
 * copied beside it first (`results.arrow.damaged-<time>`), so the repair itself loses nothing; a
 * readable file keeps all its rows (also those merged from other machines, which have no run
 * record here) and gains the recorded runs it lacks.
 */
import { copyFileSync, constants, existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '@kdbench/engine';
import { ResultsFileError, encodeResults, readResults, withLock } from './arrow-store.js';
import { RESULT_COLUMNS, type ResultRow } from './schema.js';

export interface RepairOutcome {
  file: string;
  /** Rows of the rebuilt file, of which `fromFile` came from the readable old file and `fromRuns` from run records. */
  rows: number;
  fromFile: number;
  fromRuns: number;
  /** Where the damaged file was kept (undefined when it was readable or missing). */
  damagedCopy?: string;
  /** Run records that could not be used, with the reason. */
  skipped: { file: string; reason: string }[];
  /** Columns absent from some run records (written by an older kdbench), left empty in their rows. */
  missingColumns: string[];
  /** False when the file already held every recorded run (nothing was written). */
  written: boolean;
}

export function repairResults(resultsDir: string, now: Date = new Date()): RepairOutcome {
  const file = join(resultsDir, 'results.arrow');
  const runsDir = join(resultsDir, 'runs');
  if (!existsSync(runsDir)) throw new ResultsFileError(`no run records to rebuild from: ${runsDir} does not exist`);
  return withLock(`${file}.lock`, () => {
    let kept: ResultRow[] = [];
    let damaged = false;
    try {
      kept = readResults(file);
    } catch (e) {
      if (!(e instanceof ResultsFileError)) throw e;
      damaged = true;
    }
    const { rows: recorded, skipped, missingColumns } = readRunRecords(runsDir);
    const have = new Set(kept.map((r) => r.run_id));
    const added = recorded.filter((r) => !have.has(r.run_id));
    const outcome: RepairOutcome = {
      file, rows: kept.length + added.length, fromFile: kept.length, fromRuns: added.length, skipped, missingColumns, written: false,
    };
    if (!damaged && added.length === 0 && existsSync(file)) return outcome;
    if (damaged) {
      outcome.damagedCopy = `${file}.damaged-${now.toISOString().replace(/[:.]/g, '-')}`;
      copyFileSync(file, outcome.damagedCopy, constants.COPYFILE_EXCL);
    }
    writeFileAtomic(file, encodeResults([...kept, ...added]));
    outcome.written = true;
    return outcome;
  });
}

/** Rows of every usable `runs/<id>/run.json`, oldest first. */
export function readRunRecords(runsDir: string): { rows: ResultRow[]; skipped: RepairOutcome['skipped']; missingColumns: string[] } {
  const rows: ResultRow[] = [];
  const skipped: RepairOutcome['skipped'] = [];
  const missing = new Set<string>();
  for (const id of readdirSync(runsDir).sort()) {
    const record = join(runsDir, id, 'run.json');
    if (!existsSync(record)) continue; // a run that never finished
    let value: unknown;
    try {
      value = JSON.parse(readFileSync(record, 'utf8'));
    } catch {
      skipped.push({ file: record, reason: 'not valid JSON' });
      continue;
    }
    const problem = rowProblem(value, id, missing);
    if (problem) {
      skipped.push({ file: record, reason: problem });
      continue;
    }
    rows.push(value as ResultRow);
  }
  rows.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
  return { rows, skipped, missingColumns: [...missing].sort() };
}

/** Why a run record is not a result row of this run ('' when it is); fills absent columns with null. */
function rowProblem(value: unknown, id: string, missing: Set<string>): string {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'not a result row';
  const row = value as Record<string, unknown>;
  if (row.run_id !== id) return `its run_id ${JSON.stringify(row.run_id)} is not its folder's name ${id}`;
  for (const [column, type] of Object.entries(RESULT_COLUMNS)) {
    const v = row[column];
    if (v === undefined || v === null) {
      if (v === undefined) missing.add(column);
      row[column] = null;
      continue;
    }
    if (type === 'utf8' ? typeof v !== 'string' : typeof v !== 'number') return `column '${column}' is ${JSON.stringify(v)}, not a ${type === 'utf8' ? 'string' : 'number'}`;
  }
  return '';
}
