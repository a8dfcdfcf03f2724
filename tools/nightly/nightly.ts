/**
 * The nightly benchmark: runs a named suite into a fresh results folder for tonight (teachers
 * shared across nights), appends tonight's rows to <dir>/history.arrow (each row carries its
 * commit and date), rebuilds the site with history through `kdbench report` when that command
 * exists, and exits non-zero with a summary when a run failed or a method's mean accuracy fell
 * below the previous nightly's 95% confidence interval.
 *
 *   npx tsx tools/nightly/nightly.ts --suite benchmarks/smoke.yaml --protocol smoke --seeds 3
 *   npx nx run nightly:nightly -- --suite benchmarks/survey-cifar10.yaml
 *
 * Options: --suite FILE (required) --protocol P --seeds N (default 3) --workers N --dir DIR
 * (default results/nightly) --data-dir DIR --backend NAME --metric last|best (default last)
 * --site DIR (default <dir>/site).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError, appendResults, gitCommit, readResults, scriptArgs } from '@kdbench/harness';
import { compareNights } from './regressions.js';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const cli = join(root, 'packages/harness/bin/kdbench.js');

const { values: o } = scriptArgs(import.meta.url, {
  suite: { type: 'string' }, protocol: { type: 'string' }, seeds: { type: 'string', default: '3' }, workers: { type: 'string' },
  dir: { type: 'string', default: 'results/nightly' }, 'data-dir': { type: 'string' }, backend: { type: 'string' },
  metric: { type: 'string', default: 'last' }, site: { type: 'string' },
}, '--suite FILE [--protocol P] [--seeds 3] [--workers N] [--dir results/nightly] [--data-dir DIR] [--backend B] [--metric last|best] [--site DIR]', { positionals: false });
if (!o.suite) throw new UsageError('--suite FILE is required (e.g. benchmarks/smoke.yaml)');
if (o.metric !== 'last' && o.metric !== 'best') throw new UsageError(`--metric must be last or best, got '${o.metric}'`);
const metric = o.metric === 'best' ? 'best_top1' : 'last_top1';
const dir = resolve(o.dir!);
const nightsDir = join(dir, 'nights');
const stamp = new Date().toISOString().replace(/[-:.]/g, '').slice(0, 15); // 20250101T031500
const night = unusedNightName(`${stamp}-${gitCommit().replace('+', '-')}`);
const nightDir = join(nightsDir, night);
const previousNight = existsSync(nightsDir) ? readdirSync(nightsDir).filter((d) => d < night).sort().pop() : undefined;

/** Two nights started within the same second (or by hand, twice) must not share a folder. */
function unusedNightName(name: string): string {
  let n = name;
  for (let i = 2; existsSync(join(nightsDir, n)); i++) n = `${name}-${i}`;
  return n;
}

const pass = (k: string, v: string | undefined) => (v === undefined ? [] : [`--${k}`, v]);
const args = ['suite', 'run', o.suite, '--results', nightDir, '--teachers', join(dir, 'teachers'), '--seeds', o.seeds!,
  ...pass('protocol', o.protocol), ...pass('workers', o.workers), ...pass('data-dir', o['data-dir']), ...pass('backend', o.backend)];
console.error(`nightly ${night}: kdbench ${args.join(' ')}`);
const suite = spawnSync(process.execPath, [cli, ...args], { stdio: 'inherit' });
const suiteFailed = suite.status !== 0;

const tonight = readResults(join(nightDir, 'results.arrow'));
// history keeps every night's row: the run id gets the night appended so nights never replace each other
appendResults(join(dir, 'history.arrow'), tonight.map((r) => ({ ...r, run_id: `${r.run_id}@${night}` })));

const site = o.site ?? join(dir, 'site');
const hasReport = spawnSync(process.execPath, [cli, 'report', '--help'], { stdio: 'ignore' }).status === 0;
if (hasReport) {
  const r = spawnSync(process.execPath, [cli, 'report', '--results', join(dir, 'history.arrow'), '--out', site], { stdio: 'inherit' });
  if (r.status !== 0) console.error(`nightly: kdbench report exited with ${r.status}; the site was not rebuilt`);
} else {
  console.error('nightly: this kdbench has no `report` command yet: site not rebuilt');
}

const previous = previousNight ? readResults(join(nightsDir, previousNight, 'results.arrow')) : [];
const comparisons = compareNights(tonight, previous, metric);
const fmt = (m: number | null) => (m === null ? 'n/a' : m.toFixed(2));
console.log(`\nnightly ${night} (suite ${basename(o.suite)}, ${metric}; previous: ${previousNight ?? 'none'})`);
for (const c of comparisons) {
  const prev = c.previous ? `previous ${fmt(c.previous.mean)} CI [${c.previous.ci ? c.previous.ci.map(fmt).join(', ') : 'n/a'}] n=${c.previous.n}` : 'no previous';
  console.log(`  ${c.verdict === 'regression' ? 'REGRESSION' : c.verdict.padEnd(10)} ${c.key}: ${fmt(c.current.mean)} ± ${fmt(c.current.std)} (n=${c.current.n}); ${prev}`);
}
const regressions = comparisons.filter((c) => c.verdict === 'regression');
if (suiteFailed) console.log(`  FAILED: the suite run exited with ${suite.status ?? suite.signal} (see the FAILED lines above and ${join(nightDir, 'logs')})`);
console.log(`${tonight.length} rows -> ${join(dir, 'history.arrow')}; ${regressions.length} regressions, ${suiteFailed ? 'failed runs' : 'no failed runs'}`);
process.exit(regressions.length || suiteFailed ? 1 : 0);
