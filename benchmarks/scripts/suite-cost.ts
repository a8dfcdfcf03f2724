/**
 * What a suite costs on this machine, estimated before running it: per pair and method, minutes per
 * run and for all seeds. The cost model (multiply-accumulates x training images x epochs x the
 * passes each method makes) is the harness's (packages/harness/src/suite/cost.ts, which also weighs
 * the suite progress line's ETA); this script turns it into seconds with a factor c fitted on the
 * recorded rows given (their train_seconds), and prints the fit's spread over those rows: read the
 * estimates with it. Teachers are counted once per suite.
 *
 *   npx tsx benchmarks/scripts/suite-cost.ts benchmarks/survey-cifar10.yaml --skip-gpu-pairs --calibrate benchmarks/results/quick-crd-pairs-cifar100.arrow --data-dir ../shared/datasets
 */
import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { datasetSpec, resolveDataDir } from '@kdbench/data';
import { MacCounter, expandSuite, loadSuite, passesOf, readResults, runCost, runNets, settingsOf, teacherCost, trainImages } from '@kdbench/harness';
import { initEngine } from '@kdbench/engine';

await initEngine({ backend: 'cpu' }); // counting builds no weights, but the count store needs a backend

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { calibrate: { type: 'string' }, 'skip-gpu-pairs': { type: 'boolean', default: false }, protocol: { type: 'string' }, 'data-dir': { type: 'string' } },
});
const dataDir = resolveDataDir(values['data-dir']);
/** Exits with one line when the data dir has no training files of `dataset` (the estimate counts the local split). */
function requireLocalData(dataset: string): void {
  const spec = datasetSpec(dataset);
  if (!spec.trainFiles.some((f) => existsSync(join(dataDir, spec.folder, f)))) {
    console.error(`suite-cost: no ${spec.title} training files in ${join(dataDir, spec.folder)} (give the data dir with --data-dir)`);
    process.exit(1);
  }
}
const macs = new MacCounter();

// c: seconds per (image x epoch x MMAC of passes), from recorded rows
let c = 2.4e-6;
let spread = 'no calibration rows given: c is a default';
if (values.calibrate) {
  const rows = readResults(values.calibrate);
  const ratios = rows.filter((r) => r.train_seconds > 0).map((r) => {
    const hp = JSON.parse(r.hyperparameters || '{}') as Record<string, string>;
    const run = { dataset: r.dataset, method: r.method, student: r.student, teacher: r.teacher || undefined, protocol: r.protocol, hp };
    // a row's own training-set size where it records one, else what its protocol takes of the local split
    const recorded = (JSON.parse(r.details || '{}') as { trainImages?: number }).trainImages;
    if (recorded === undefined) requireLocalData(r.dataset);
    const images = recorded ?? trainImages(r.dataset, settingsOf(r.protocol), dataDir);
    return r.train_seconds / (images * r.epochs * passesOf(r.method, runNets(run, macs), hp, Boolean(r.teacher)));
  }).sort((a, b) => a - b);
  if (ratios.length > 0) {
    c = ratios[Math.floor(ratios.length / 2)]!;
    spread = `c fitted on ${ratios.length} rows of ${values.calibrate} (median); the rows' own estimates are off by ${Math.round((ratios[0]! / c - 1) * 100)}% to +${Math.round((ratios.at(-1)! / c - 1) * 100)}%`;
  }
}

for (const file of positionals) {
  const plan = expandSuite(loadSuite(file), { protocol: values.protocol, skipGpuPairs: values['skip-gpu-pairs'] });
  for (const dataset of new Set(plan.runs.map((r) => r.request.dataset))) requireLocalData(dataset);
  const byPair = new Map<string, { minutes: number; runs: number }>();
  let total = 0;
  for (const run of plan.runs) {
    const r = run.request;
    const hp = r.hp ?? {};
    const seconds = c * runCost(r, dataDir, macs);
    const key = `${r.dataset} | ${r.teacher ? `${r.teacher} -> ` : ''}${r.student} | ${r.method}${Object.keys(hp).length ? ` ${JSON.stringify(hp)}` : ''}`;
    const e = byPair.get(key) ?? { minutes: 0, runs: 0 };
    byPair.set(key, { minutes: e.minutes + seconds / 60, runs: e.runs + 1 });
    total += seconds;
  }
  const teacherSeconds = plan.teachers.reduce((s, t) => s + c * teacherCost(t.request, dataDir, macs), 0);
  console.log(`\n### ${file}${values['skip-gpu-pairs'] ? ' (--skip-gpu-pairs)' : ''}: ${plan.runs.length} runs, ${plan.teachers.length} teachers\n`);
  console.log(`${spread}.\n`);
  console.log('| dataset \\| pair \\| method | runs | minutes per run | minutes, all seeds |');
  console.log('|---|---|---|---|');
  for (const [k, v] of [...byPair].sort((a, b) => b[1].minutes - a[1].minutes)) {
    console.log(`| ${k.replaceAll('|', '\\|')} | ${v.runs} | ${(v.minutes / v.runs).toFixed(0)} | ${v.minutes.toFixed(0)} |`);
  }
  console.log(`\nRuns: ${(total / 3600).toFixed(1)} h of one worker; teachers: ${(teacherSeconds / 3600).toFixed(1)} h; with 2 workers about ${((total + teacherSeconds) / 7200).toFixed(1)} h.`);
}
