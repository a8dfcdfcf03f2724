/**
 * Shared command-line options (data dir, results dir, backend) and a small wrapper over
 * node:util parseArgs that turns unknown options into a clear error with the command's help.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { resolveDataDir } from '@kdbench/data';
import { ConfigError } from '@kdbench/core';
import { UsageError } from './errors.js';

export type Options = NonNullable<ParseArgsConfig['options']>;

export const COMMON_OPTIONS = {
  'data-dir': { type: 'string' },
  results: { type: 'string' },
  backend: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} satisfies Options;

/**
 * Parses a command's arguments; any problem is one UsageError line that names the command's help.
 * A negative number after an option (`--workers -1`) is its value, not an option.
 */
export function parse<O extends Options>(argv: string[], options: O, usage: string) {
  const command = /^Usage: (kdbench [a-z]+)/.exec(usage)?.[1] ?? 'kdbench';
  return parseWithHint(argv, options, `${command} --help lists the options`);
}

/** `parse`, with `hint` (where the options are listed) in parentheses after a problem. */
export function parseWithHint<O extends Options>(argv: string[], options: O, hint: string) {
  const args = joinNegativeValues(argv, options);
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(`${usageProblem(e as Error & { code?: string })} (${hint})`);
  }
}

function joinNegativeValues(argv: string[], options: Options): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const name = a.startsWith('--') ? a.slice(2) : a.startsWith('-') && a.length === 2
      ? Object.entries(options).find(([, o]) => o.short === a.slice(1))?.[0] : undefined;
    const next = argv[i + 1];
    if (name && options[name]?.type === 'string' && next !== undefined && /^-\.?\d/.test(next)) {
      out.push(`--${name}=${next}`);
      i++;
    } else {
      out.push(a);
    }
  }
  return out;
}

function usageProblem(e: Error & { code?: string }): string {
  const first = e.message.split('\n')[0]!;
  if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown option ${/'[^']*'/.exec(first)?.[0] ?? first}`;
  const missing = /^Option '(-[^' ]+)(?: <value>)?' argument (missing|is ambiguous)/.exec(first);
  if (missing) return `${missing[1]!.replace(/^-(\w), /, '')} needs a value`;
  const noArg = /^Option '(-[^' ]+)' does not take an argument/.exec(first);
  if (noArg) return `${noArg[1]} takes no value`;
  return first.replace(/\.$/, '');
}

export function dataDir(v: { 'data-dir'?: string }): string {
  return resolveDataDir(v['data-dir']);
}

export function resultsDir(v: { results?: string }): string {
  return v.results ?? process.env.KDBENCH_RESULTS_DIR ?? 'results';
}

export function int(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isInteger(v)) throw new ConfigError(`--${name} must be an integer, got '${raw}'`);
  return v;
}
