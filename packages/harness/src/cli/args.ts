/**
 * Shared command-line options (data dir, results dir, backend) and a small wrapper over
 * node:util parseArgs that turns unknown options into a clear error with the command's help.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { resolveDataDir } from '@kdbench/data';
import { ConfigError } from '@kdbench/core';

export type Options = NonNullable<ParseArgsConfig['options']>;

export const COMMON_OPTIONS = {
  'data-dir': { type: 'string' },
  results: { type: 'string' },
  backend: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} satisfies Options;

export const COMMON_HELP = `Common options:
  --data-dir DIR   CIFAR data folder (default: $KDBENCH_DATA_DIR, else ~/.cache/kdbench/datasets)
  --results DIR    results folder: results.arrow, runs/, teachers/ (default: $KDBENCH_RESULTS_DIR, else ./results)
  --backend NAME   auto | tensorflow-gpu | tensorflow | wasm | cpu (default: auto, or $KDBENCH_BACKEND)
  -h, --help       this help`;

export function parse<O extends Options>(argv: string[], options: O, usage: string) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new ConfigError(`${(e as Error).message}\n\n${usage}`);
  }
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
