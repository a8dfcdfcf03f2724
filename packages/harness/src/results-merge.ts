/**
 * Merging results files from several machines (shards): same schema required, rows deduplicated
 * by run id (the first file's row wins), written atomically.
 */
import { existsSync, readFileSync } from 'node:fs';
import { tableFromIPC, type Schema } from 'apache-arrow';
import { writeFileAtomic } from '@kdbench/engine';
import { ResultsFileError, encodeResults, readResults } from './results/arrow-store.js';
import { RESULT_COLUMNS, type ResultRow } from './results/schema.js';

const ARROW_TYPE = { utf8: 'Utf8', int32: 'Int32', float64: 'Float64' } as const;

/** `name: Type` per column of an Arrow file's schema. */
export function schemaOf(file: string): Map<string, string> {
  if (!existsSync(file)) throw new ResultsFileError(`${file}: no such file`);
  let schema: Schema;
  try {
    schema = tableFromIPC(readFileSync(file)).schema;
  } catch (e) {
    throw new ResultsFileError(`${file}: not a readable Arrow file (${(e as Error).message})`);
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
  /** Rows per input file, and rows dropped as duplicates of an earlier file's run id. */
  perFile: { file: string; rows: number; duplicates: number }[];
}

/** Merges results files into `out`; throws ResultsFileError when a schema differs from kdbench's. */
export function mergeResults(files: string[], out: string): MergeOutcome {
  if (files.length === 0) throw new ResultsFileError('nothing to merge: give at least one results file');
  const expected = new Map(Object.entries(RESULT_COLUMNS).map(([k, t]) => [k, ARROW_TYPE[t]]));
  const schemas = files.map((f) => schemaOf(f));
  schemas.forEach((s, i) => {
    const diff = schemaDiff(schemas[0]!, s, files[0]!, files[i]!);
    if (diff.length) throw new ResultsFileError(`schema mismatch between ${files[0]} and ${files[i]}:\n  ${diff.join('\n  ')}`);
    const own = schemaDiff(expected, s, 'the kdbench results schema', files[i]!);
    if (own.length) throw new ResultsFileError(`${files[i]}: not a kdbench results file of this version:\n  ${own.join('\n  ')}`);
  });
  const seen = new Set<string>();
  const rows: ResultRow[] = [];
  const perFile = files.map((file) => {
    let duplicates = 0;
    const fileRows = readResults(file);
    for (const r of fileRows) {
      if (seen.has(r.run_id)) {
        duplicates++;
        continue;
      }
      seen.add(r.run_id);
      rows.push(r);
    }
    return { file, rows: fileRows.length, duplicates };
  });
  writeFileAtomic(out, encodeResults(rows));
  return { rows, perFile };
}
