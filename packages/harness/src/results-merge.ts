/**
 * Merging results files from several machines (shards): same schema required, rows deduplicated
 * by run id (the row with the latest date wins: a rerun of the same configuration, as `suite run
 * --rerun` replaces a row in one file; on equal dates the first file's), written atomically; an existing output file is never
 * replaced unless it is one of the inputs or the caller forces it.
 */
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ConfigError } from '@kdbench/core';
import { tableFromIPC, type Schema } from 'apache-arrow';
import { writeFileAtomic } from '@kdbench/engine';
import { ResultsFileError, encodeResults, readResults, unreadableMessage, withLock } from './results/arrow-store.js';
import { RESULT_COLUMNS, type ResultRow } from './results/schema.js';
import { OutputError, checkWritableDir } from './output-dirs.js';

const ARROW_TYPE = { utf8: 'Utf8', int32: 'Int32', float64: 'Float64' } as const;

/** `name: Type` per column of an Arrow file's schema. */
export function schemaOf(file: string): Map<string, string> {
  if (!existsSync(file)) throw new ResultsFileError(`${file}: no such file`);
  let schema: Schema;
  try {
    schema = tableFromIPC(readFileSync(file)).schema;
  } catch {
    throw new ResultsFileError(unreadableMessage(file));
  }
  return new Map(schema.fields.map((f) => [f.name, String(f.type)]));
}

/** Differences between two schemas, as lines ('' when equal). */
export function schemaDiff(a: Map<string, string>, b: Map<string, string>, aName: string, bName: string): string[] {
  const out: string[] = [];
  for (const [name, type] of a) {
    if (!b.has(name)) out.push(`column '${name}' is in ${aName} but not in ${bName}`);
    else if (b.get(name) !== type) out.push(`column '${name}' is ${type} in ${aName} but ${b.get(name)} in ${bName}`);
  }
  for (const name of b.keys()) if (!a.has(name)) out.push(`column '${name}' is in ${bName} but not in ${aName}`);
  return out;
}

export interface MergeOutcome {
  rows: ResultRow[];
  /** Rows per input file, and its rows whose run id an earlier file already had (the later-dated of the two is kept). */
  perFile: { file: string; rows: number; duplicates: number }[];
}

export interface MergeOptions {
  /** Replace an existing `out` that is not one of the inputs. */
  force?: boolean;
}

/**
 * Merges results files into `out`; throws ResultsFileError when a schema differs from kdbench's.
 * An existing `out` is merged into when it is one of the inputs, replaced only with `force`, and
 * refused otherwise, so that no merge destroys rows.
 */
export function mergeResults(files: string[], out: string, opts: MergeOptions = {}): MergeOutcome {
  if (files.length === 0) throw new ResultsFileError('nothing to merge: give at least one results file');
  checkMergeTarget(files, out, opts.force === true);
  const expected = new Map(Object.entries(RESULT_COLUMNS).map(([k, t]) => [k, ARROW_TYPE[t]]));
  const schemas = files.map((f) => schemaOf(f));
  schemas.forEach((s, i) => {
    const diff = schemaDiff(schemas[0]!, s, files[0]!, files[i]!);
    if (diff.length) throw new ResultsFileError(`schema mismatch between ${files[0]} and ${files[i]}: ${listed(diff)}`);
    const own = schemaDiff(expected, s, 'the kdbench results schema', files[i]!);
    if (own.length) throw new ResultsFileError(`${files[i]}: not a kdbench results file of this version: ${listed(own)}`);
  });
  // under the results lock of `out`, so that a suite appending to it meanwhile loses nothing
  return withLock(`${out}.lock`, () => {
    const at = new Map<string, number>(); // run id -> index in rows
    const rows: ResultRow[] = [];
    const perFile = files.map((file) => {
      let duplicates = 0;
      const fileRows = readResults(file);
      for (const r of fileRows) {
        const i = at.get(r.run_id);
        if (i === undefined) {
          at.set(r.run_id, rows.length);
          rows.push(r);
          continue;
        }
        duplicates++;
        if (r.date > rows[i]!.date) rows[i] = r; // a later run of the same configuration (a rerun) replaces the earlier
      }
      return { file, rows: fileRows.length, duplicates };
    });
    writeFileAtomic(out, encodeResults(rows));
    return { rows, perFile };
  });
}

/** The first differences, on one line. */
function listed(diff: string[]): string {
  return diff.length > 3 ? `${diff.slice(0, 3).join('; ')}; and ${diff.length - 3} more` : diff.join('; ');
}

function checkMergeTarget(files: string[], out: string, force: boolean): void {
  if (!existsSync(out)) {
    checkWritableDir(dirname(resolve(out)), 'folder of --out');
    return;
  }
  if (statSync(out).isDirectory()) throw new OutputError(`--out ${out} is a folder; give a file name, e.g. ${join(out, 'results.arrow')}`);
  const same = (a: string, b: string) => realpathSync(a) === realpathSync(b);
  if (force || files.some((f) => existsSync(f) && same(f, out))) return;
  throw new ConfigError(`--out ${out} already exists and is not one of the files to merge: list it among them to merge into it, `
    + 'or add --force to replace it');
}
