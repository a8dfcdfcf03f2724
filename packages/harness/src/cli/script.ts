/**
 * The command-line boundary of the repository's scripts (benchmarks/scripts, benchmarks/engine):
 * the CLI's one-line errors and exit codes, named after the script. A wrong option, a missing or
 * damaged results file, a broken suite file: `pair-table: <what and where>` on stderr and a non-zero
 * exit, never a stack trace or an empty table. A problem the script finds itself (a missing
 * positional, a bad value) is thrown as a `UsageError`.
 */
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { readResults, ResultsFileError } from '../results/arrow-store.js';
import type { ResultRow } from '../results/schema.js';
import { parseWithHint, type Options } from './args.js';
import { UsageError, debugEnabled, installProcessGuards } from './errors.js';

/** The script's name as it prints it: `pair-table` for benchmarks/scripts/pair-table.ts. */
export function scriptName(url: string): string {
  return basename(new URL(url).pathname).replace(/\.[mc]?[jt]s$/, '');
}

/**
 * Installs the error guard for the script at `url` (its `import.meta.url`) and parses its command
 * line against `options`; a problem is one line ending with `usage`. `--debug` (or
 * KDBENCH_DEBUG=1) adds the stack to an error, as in the CLI. A script that takes no positional
 * arguments says so (`positionals: false`), and a stray one is then an error.
 */
export function scriptArgs<O extends Options>(url: string, options: O, usage: string, { positionals = true } = {}) {
  const name = scriptName(url);
  const argv = process.argv.slice(2);
  const debug = argv.includes('--debug') || debugEnabled();
  installProcessGuards(() => name, () => debug);
  const parsed = parseWithHint(argv.filter((a) => a !== '--debug'), options, `usage: ${name} ${usage}`);
  if (!positionals && parsed.positionals.length) {
    throw new UsageError(`unexpected argument '${parsed.positionals[0]}' (usage: ${name} ${usage})`);
  }
  return parsed;
}

/**
 * The rows of results files named on a command line, one per run id (the later-dated where two files
 * hold the same run, as `kdbench results merge` keeps it). Unlike `readResults` (for which a missing
 * file is an empty store about to be written), a file that does not exist is an error here: a
 * table of it would be silently empty.
 */
export function readResultFiles(files: readonly string[]): ResultRow[] {
  if (!files.length) throw new UsageError('give at least one results file (.arrow)');
  const byRun = new Map<string, ResultRow>();
  for (const file of files) {
    if (!existsSync(file)) throw new ResultsFileError(`${file}: no such results file`);
    for (const row of readResults(file)) {
      const seen = byRun.get(row.run_id);
      if (!seen || row.date > seen.date) byRun.set(row.run_id, row);
    }
  }
  return [...byRun.values()];
}
