/** `kdbench results merge A.arrow B.arrow --out C.arrow`: combine the results of several machines. */
import { ConfigError } from '@kdbench/core';
import { mergeResults } from '../results-merge.js';
import { parse } from './args.js';

export const RESULTS_HELP = `Usage: kdbench results merge A.arrow B.arrow [...] --out C.arrow

Combines results files (e.g. one per shard of a suite run on several machines) into one:
rows are deduplicated by run id (the first file's row wins); files whose Arrow schema differs
from each other or from this kdbench's results schema are refused.`;

export async function resultsCommand(argv: string[]): Promise<number> {
  const { values: o, positionals } = parse(argv, { help: { type: 'boolean', short: 'h' }, out: { type: 'string' } }, RESULTS_HELP);
  if (o.help) return (console.log(RESULTS_HELP), 0);
  const [verb, ...files] = positionals;
  if (verb !== 'merge' || files.length === 0 || !o.out) throw new ConfigError(`expected 'kdbench results merge A.arrow B.arrow --out C.arrow'\n\n${RESULTS_HELP}`);
  const { rows, perFile } = mergeResults(files, o.out);
  for (const f of perFile) console.log(`${f.file}: ${f.rows} rows${f.duplicates ? `, ${f.duplicates} duplicates dropped` : ''}`);
  console.log(`${o.out}: ${rows.length} rows`);
  return 0;
}
