/** `kdbench suite run FILE`: a benchmark suite in worker processes, teachers first, resumable. */
import { availableParallelism } from 'node:os';
import { ConfigError, parseProtocolOverrides } from '@kdbench/core';
import { readResults } from '../results/arrow-store.js';
import { join } from 'node:path';
import { checkDataDir, checkRunOutputs, checkWritableDir } from '../output-dirs.js';
import { protocolWarnings, resultsFile } from '../run.js';
import { EXIT } from './errors.js';
import { neededTeachers, pendingRuns, runSuite } from '../suite/runner.js';
import { estimateJobs } from '../suite/cost.js';
import type { ResultRow } from '../results/schema.js';
import { initEngine } from '@kdbench/engine';
import { expandSuite, loadSuite, parseShard, seedRange, seedsText, type SuitePlan } from '../suite/suite.js';
import { COMMON_OPTIONS, dataDir, int, parse, resultsDir } from './args.js';
import { parseTeacherCache } from './run-command.js';
import { formatTable } from './table.js';
import { SUITE_HELP } from './help.js';

const OPTIONS = {
  ...COMMON_OPTIONS,
  protocol: { type: 'string' },
  seeds: { type: 'string' },
  workers: { type: 'string' },
  shard: { type: 'string' },
  set: { type: 'string' },
  teachers: { type: 'string' },
  'teacher-cache': { type: 'string' },
  'dry-run': { type: 'boolean' },
  rerun: { type: 'string' },
  'skip-gpu-pairs': { type: 'boolean' },
} as const;

export async function suiteCommand(argv: string[]): Promise<number> {
  const { values: o, positionals } = parse(argv, OPTIONS, SUITE_HELP);
  if (o.help) return (console.log(SUITE_HELP), 0);
  const [verb, file, ...extra] = positionals;
  if (verb !== 'run' || !file || extra.length) throw new ConfigError(`expected 'kdbench suite run FILE' (kdbench suite --help)`);
  const suite = loadSuite(file);
  const protocol = o.protocol ?? suite.protocol;
  const seeds = o.seeds === undefined ? undefined : int('seeds', o.seeds, 1);
  if (seeds !== undefined && seeds < 1) throw new ConfigError(`--seeds must be >= 1, got ${seeds}`);
  const workers = int('workers', o.workers, availableParallelism());
  if (workers < 0) throw new ConfigError(`--workers must be >= 0, got ${workers}`);
  const set = parseProtocolOverrides(protocol, o.set);
  const plan = expandSuite(suite, {
    protocol, seeds: seeds === undefined ? undefined : seedRange(seeds), set, shard: parseShard(o.shard),
    skipGpuPairs: o['skip-gpu-pairs'] === true,
  });
  const warnings = [...plan.warnings, ...protocolWarnings({ epochs: set.epochs ?? 0, teacherEpochs: set.teacherEpochs ?? 0 }).map((w) => `--set ${w}`)];
  if (workers > availableParallelism()) {
    warnings.push(`--workers ${workers} is more than the ${availableParallelism()} cores here: each worker holds its own copy of the data and `
      + 'models, and the runs will not finish sooner');
  }
  for (const w of warnings) console.error(`kdbench suite: warning: ${w}`);
  const rerun = new Set((o.rerun ?? '').split(',').map((m) => m.trim()).filter(Boolean));
  const suiteMethods = new Set(plan.runs.map((r) => r.request.method));
  for (const m of rerun) {
    if (!suiteMethods.has(m)) throw new ConfigError(`--rerun: method '${m}' has no runs in suite ${suite.name} (its methods: ${[...suiteMethods].join(', ')})`);
  }
  const results = resultsDir(o);
  const shardText = (plan.shard ? `, shard ${plan.shard.index}/${plan.shard.count}` : '')
    + (plan.skippedGpuPairs ? `, ${plan.skippedGpuPairs} GPU-sized pairs left out` : '');
  if (o['dry-run']) {
    const rows = readResults(resultsFile(results));
    const recorded = new Set(rows.map((r) => r.run_id));
    console.log(formatTable(
      ['run id', 'dataset', 'method', 'teacher', 'student', 'seed', 'status'],
      plan.runs.map((r) => [r.id, r.request.dataset, r.request.method, r.request.teacher ?? '-', r.request.student, r.request.seed,
        !recorded.has(r.id) ? 'to run' : rerun.has(r.request.method) ? 'recorded, to rerun' : 'recorded']),
    ));
    const todo = pendingRuns(plan, recorded, rerun);
    console.log(`\nsuite ${suite.name} (${file}), protocol ${protocol}, seeds ${seedsText(plan)}${shardText}: `
      + `${plan.runs.length} runs, ${todo.length} to run, ${plan.teachers.length} teachers (${plan.teachers.map((t) => t.label.replace('teacher ', '')).join(', ') || 'none'})`);
    if (todo.length > 0) console.log(await estimateText(plan, todo, rows, dataDir(o), workers));
    return 0;
  }
  // before any worker starts: a bad --results or --data-dir fails now, in one line
  const dir = dataDir(o);
  checkDataDir(dir);
  checkRunOutputs(results, o.teachers);
  checkWritableDir(join(results, 'logs'), 'logs folder');
  process.stderr.write(`suite ${suite.name} (${file}): ${plan.runs.length} runs, protocol ${protocol}, seeds ${seedsText(plan)}${shardText}, ${workers} workers\n`);
  const summary = await runSuite({
    plan, workers, rerun,
    ctx: { dataDir: dir, resultsDir: results, teachersDir: o.teachers, backend: o.backend, teacherCache: parseTeacherCache(o['teacher-cache']) },
  });
  const teachersText = summary.teachers ? `; ${summary.teachers} teachers needed, ${summary.teachersFailed.length} failed` : '';
  console.log(`suite ${suite.name}: ${summary.total} runs: ${summary.alreadyRecorded} already recorded, ${summary.ran} ran, `
    + `${summary.failed.length} failed${teachersText} (${summary.wallSeconds.toFixed(1)} s) -> ${resultsFile(results)}`);
  for (const f of [...summary.teachersFailed, ...summary.failed]) {
    console.log(`  FAILED ${f.label} [${f.id}]: ${f.error.split('\n')[0]}${f.log ? ` (log: ${f.log})` : ''}`);
  }
  return summary.failed.length || summary.teachersFailed.length ? EXIT.failedRuns : EXIT.ok;
}

/**
 * What the pending runs and their teachers take, estimated from MACs and timed by the recorded rows
 * most like each (suite/cost.ts): teachers already in the store take no time, so their hours are an
 * upper bound.
 */
async function estimateText(plan: SuitePlan, todo: SuitePlan['runs'], rows: ResultRow[], dir: string, workers: number): Promise<string> {
  await initEngine({ backend: 'cpu' });
  const e = estimateJobs(todo, neededTeachers(plan, todo), rows, dir);
  const hours = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0) / 3600;
  const runs = hours(e.runs);
  const teacherHours = hours(e.teachers);
  const timed = e.calibratedOn > 0 ? 'timed by the recorded rows most like them' : 'no recorded rows to time them by: a default speed';
  return `estimated (multiply-accumulates, ${timed}; rough): ${runs.toFixed(1)} h of runs and up to ${teacherHours.toFixed(1)} h of teachers `
    + `(none if stored), about ${((runs + teacherHours) / Math.max(1, workers)).toFixed(1)} h with ${Math.max(1, workers)} workers`;
}
