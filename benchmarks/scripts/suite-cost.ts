/**
 * What a suite costs on this machine, estimated before running it: per pair and method, minutes per
 * run and for all seeds. The cost model (multiply-accumulates x training images x epochs x the
 * passes each method makes) and its calibration on recorded rows are the harness's
 * (packages/harness/src/suite/cost.ts, which also weighs the suite progress line's ETA): each job's
 * seconds per unit come from the rows given that are most like it (their train_seconds). Give the
 * results of earlier suites (`--calibrate results/results.arrow`, repeatable); the spread of the
 * recorded configurations around one factor is printed, and how long the runs not recorded there take. Teachers are counted
 * once per suite.
 *
 *   npx tsx benchmarks/scripts/suite-cost.ts benchmarks/survey-cifar10.yaml --skip-gpu-pairs $(printf -- '--calibrate %s ' benchmarks/results/*.arrow) --data-dir ../shared/datasets
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DataError, datasetSpec, resolveDataDir } from '@kdbench/data';
import { CostCalibration, MacCounter, UsageError, expandSuite, loadSuite, readResultFiles, scriptArgs } from '@kdbench/harness';
import { initEngine } from '@kdbench/engine';

const { values, positionals } = scriptArgs(import.meta.url, {
  calibrate: { type: 'string', multiple: true }, 'skip-gpu-pairs': { type: 'boolean', default: false }, protocol: { type: 'string' }, 'data-dir': { type: 'string' },
}, 'SUITE.yaml ... [--calibrate RESULTS.arrow ...] [--skip-gpu-pairs] [--protocol P] [--data-dir DIR]');
if (!positionals.length) throw new UsageError('give at least one suite file (.yaml)');
await initEngine({ backend: 'cpu' }); // counting builds no weights, but the count store needs a backend

const dataDir = resolveDataDir(values['data-dir']);
/** Fails when the data dir has no training files of `dataset` (the estimate counts the local split). */
function requireLocalData(dataset: string): void {
  const spec = datasetSpec(dataset);
  if (!spec.trainFiles.some((f) => existsSync(join(dataDir, spec.folder, f)))) {
    throw new DataError(`no ${spec.title} training files in ${join(dataDir, spec.folder)} (give the data dir with --data-dir)`);
  }
}
const macs = new MacCounter();

// seconds per (image x epoch x MMAC of passes), fitted on the recorded rows most like each job
const calibrationFiles = values.calibrate ?? [];
const rows = calibrationFiles.length ? readResultFiles(calibrationFiles) : [];
const calibration = new CostCalibration(rows, macs);
const fit = calibration.spread();
const spread = fit
  ? `seconds per unit fitted on ${fit.rows} configurations recorded in ${calibrationFiles.join(', ')} (each at its fastest seed and steady epochs), for each job on those most like it (same method and pair, else method and student, else student, each first at the job's width; else method, else all); their ratios to the median range from ${Math.round((fit.low - 1) * 100)}% to +${Math.round((fit.high - 1) * 100)}%`
  : 'no calibration rows given: seconds per unit are a default';

for (const file of positionals) {
  const plan = expandSuite(loadSuite(file), { protocol: values.protocol, skipGpuPairs: values['skip-gpu-pairs'] });
  for (const dataset of new Set(plan.runs.map((r) => r.request.dataset))) requireLocalData(dataset);
  const byPair = new Map<string, { minutes: number; runs: number }>();
  let total = 0;
  let pending = 0;
  const recorded = new Set(rows.map((r) => r.run_id));
  for (const run of plan.runs) {
    const r = run.request;
    const hp = r.hp ?? {};
    const seconds = calibration.runSeconds(r, dataDir, macs);
    const key = `${r.dataset} | ${r.teacher ? `${r.teacher} -> ` : ''}${r.student} | ${r.method}${Object.keys(hp).length ? ` ${JSON.stringify(hp)}` : ''}`;
    const e = byPair.get(key) ?? { minutes: 0, runs: 0 };
    byPair.set(key, { minutes: e.minutes + seconds / 60, runs: e.runs + 1 });
    total += seconds;
    if (!recorded.has(run.id)) pending += seconds;
  }
  const teacherSeconds = plan.teachers.reduce((s, t) => s + calibration.teacherSeconds(t.request, dataDir, macs), 0);
  console.log(`\n### ${file}${values['skip-gpu-pairs'] ? ' (--skip-gpu-pairs)' : ''}: ${plan.runs.length} runs, ${plan.teachers.length} teachers\n`);
  console.log(`${spread}.\n`);
  console.log('| dataset \\| pair \\| method | runs | minutes per run | minutes, all seeds |');
  console.log('|---|---|---|---|');
  for (const [k, v] of [...byPair].sort((a, b) => b[1].minutes - a[1].minutes)) {
    console.log(`| ${k.replaceAll('|', '\\|')} | ${v.runs} | ${(v.minutes / v.runs).toFixed(0)} | ${v.minutes.toFixed(0)} |`);
  }
  console.log(`\nRuns: ${(total / 3600).toFixed(1)} h of one worker; teachers: ${(teacherSeconds / 3600).toFixed(1)} h; with 2 workers about ${((total + teacherSeconds) / 7200).toFixed(1)} h.`);
  const done = plan.runs.filter((r) => recorded.has(r.id)).length;
  if (done > 0) console.log(`${done} of ${plan.runs.length} runs are recorded in the calibration rows; the rest take about ${(pending / 7200).toFixed(1)} h with 2 workers, plus teachers not yet stored.`);
}
