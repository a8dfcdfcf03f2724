/**
 * `kdbench results merge A.arrow B.arrow --out C.arrow`: combine the results of several machines.
 * `kdbench results repair [--results DIR]`: rebuild a damaged results.arrow from the run records.
 */
import { ConfigError } from '@kdbench/core';
import { mergeResults } from '../results-merge.js';
import { repairResults } from '../results/repair.js';
import { parse, resultsDir } from './args.js';
import { RESULTS_HELP } from './help.js';

export async function resultsCommand(argv: string[]): Promise<number> {
  const { values: o, positionals } = parse(argv, {
    help: { type: 'boolean', short: 'h' }, out: { type: 'string' }, force: { type: 'boolean' }, results: { type: 'string' },
  }, RESULTS_HELP);
  if (o.help) return (console.log(RESULTS_HELP), 0);
  const [verb, ...files] = positionals;
  if (verb === 'repair') {
    if (files.length) throw new ConfigError(`'kdbench results repair' takes no files; give the results folder with --results DIR`);
    return repairCommand(resultsDir(o));
  }
  if (verb !== 'merge' || files.length === 0 || !o.out) {
    throw new ConfigError("expected 'kdbench results merge A.arrow B.arrow --out C.arrow' or 'kdbench results repair' (kdbench results --help)");
  }
  const { rows, perFile } = mergeResults(files, o.out, { force: o.force === true });
  for (const f of perFile) console.log(`${f.file}: ${f.rows} rows${f.duplicates ? `, ${f.duplicates} duplicates dropped` : ''}`);
  console.log(`${o.out}: ${rows.length} rows`);
  return 0;
}

function repairCommand(dir: string): number {
  const r = repairResults(dir);
  for (const s of r.skipped) console.error(`kdbench results: skipped ${s.file}: ${s.reason}`);
  if (r.missingColumns.length) console.error(`kdbench results: some run records have no ${r.missingColumns.join(', ')} (left empty in their rows)`);
  if (!r.written) {
    console.log(`${r.file} is readable and holds every recorded run (${r.rows} rows): nothing to repair`);
    return 0;
  }
  if (r.damagedCopy) console.log(`the damaged file is kept as ${r.damagedCopy}`);
  console.log(`${r.file}: ${r.rows} rows (${r.fromRuns} from run records${r.fromFile ? `, ${r.fromFile} kept from the file` : ''})`);
  return 0;
}
