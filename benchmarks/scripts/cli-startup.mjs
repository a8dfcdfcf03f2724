#!/usr/bin/env node
/**
 * Start-up time of the kdbench CLI: wall time from spawning the process to its exit for commands
 * that print and stop (help, a listing, a failing run), per checkout, interleaved so that every
 * checkout sees the same machine load. Prints a markdown table of the median and the fastest of N
 * runs (benchmarks/RESULTS.md records it).
 *
 *   node benchmarks/scripts/cli-startup.mjs [--runs 7] [--checkout DIR]... [--from-source]
 *
 * --checkout: a kdbench checkout with its node_modules (default: this one); give several to compare
 * (e.g. a worktree of an older commit). --from-source also times this checkout with
 * KDBENCH_FROM_SOURCE=1 (the TypeScript sources through tsx instead of the build).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

// plain JavaScript under plain node (what it times is the CLI's start, without tsx), so it parses
// its own command line rather than through @kdbench/harness's scriptArgs
const usage = 'usage: node benchmarks/scripts/cli-startup.mjs [--runs 7] [--checkout DIR]... [--from-source]';
let values;
try {
  ({ values } = parseArgs({
    options: { runs: { type: 'string', default: '7' }, checkout: { type: 'string', multiple: true }, 'from-source': { type: 'boolean' } },
  }));
} catch (e) {
  console.error(`cli-startup: ${e.message.split('\n')[0]} (${usage})`);
  process.exit(2);
}
const here = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const runs = Number(values.runs);
const checkouts = (values.checkout ?? [here]).map((c) => resolve(c));
const aFile = join(mkdtempSync(join(tmpdir(), 'kdb-startup-')), 'a-file');
writeFileSync(aFile, 'not a folder');

const COMMANDS = [
  ['--help'],
  ['run', '--help'],
  ['methods'],
  // fails at once: --results is a file (before this change: after the data load)
  ['run', '--dataset', 'cifar10', '--student', 'resnet8', '--method', 'vanilla', '--protocol', 'smoke', '--results', aFile],
];

const variants = checkouts.flatMap((dir) => [
  { label: `${dir}`, dir, env: {}, npx: false },
  ...(values['from-source'] && dir === here ? [{ label: `${dir} (KDBENCH_FROM_SOURCE=1)`, dir, env: { KDBENCH_FROM_SOURCE: '1' }, npx: false }] : []),
  { label: `${dir} via npx`, dir, env: {}, npx: true },
]);

const times = new Map();
for (let i = 0; i < runs; i++) {
  for (const v of variants) {
    for (const args of v.npx ? [COMMANDS[0]] : COMMANDS) {
      const [cmd, argv] = v.npx ? ['npx', ['kdbench', ...args]] : [process.execPath, [join(v.dir, 'packages/harness/bin/kdbench.js'), ...args]];
      const t0 = process.hrtime.bigint();
      spawnSync(cmd, argv, { cwd: v.dir, stdio: 'ignore', env: { ...process.env, ...v.env, KDBENCH_DATA_DIR: process.env.KDBENCH_DATA_DIR ?? join(here, '../shared/datasets') } });
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      const key = `${v.label}\u0000${v.npx ? 'npx kdbench ' : 'kdbench '}${args.join(' ').replace(aFile, 'A_FILE')}`;
      times.set(key, [...(times.get(key) ?? []), ms]);
    }
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`| checkout | command | median (s) | fastest (s) |\n|---|---|---:|---:|`);
for (const [key, xs] of times) {
  const [label, command] = key.split('\u0000');
  console.log(`| ${label} | \`${command}\` | ${(median(xs) / 1000).toFixed(2)} | ${(Math.min(...xs) / 1000).toFixed(2)} |`);
}
console.log(`\n${runs} runs each, interleaved; node ${process.version}, load average ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')}`);
