/**
 * What a suite costs on this machine, estimated before running it: per pair and method, minutes per
 * run and for all seeds, from multiply-accumulates. A run's cost is
 *   seconds = c x training images x epochs x passes (MMACs per image),
 * training images being what the run's protocol takes of the data dir's split (CIFAR-10 quick: 4,000),
 * passes = 3 x the trained networks' MACs (forward and backward) times the views of the batch each
 * sees, plus one forward of every frozen network (teacher, temporal mean). The method table below
 * says what each method adds to the plain 3 x student (+ teacher) and is an estimate from the
 * methods' procedures, not a measurement. c is fitted on the recorded rows given (their
 * train_seconds), and the fit's spread over those rows is printed: read the estimates with it.
 * Teachers cost 3 x their MACs for the protocol's teacher epochs, once per suite.
 *
 *   npx tsx benchmarks/scripts/suite-cost.ts benchmarks/survey-cifar10.yaml --skip-gpu-pairs --calibrate benchmarks/results/quick-crd-pairs-cifar100.arrow --data-dir ../shared/datasets
 */
import { parseArgs } from 'node:util';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { getProtocol } from '@kdbench/core';
import { datasetSpec, resolveDataDir } from '@kdbench/data';
import { expandSuite, loadSuite, readResults, registry } from '@kdbench/harness';
import { partnerOf } from '@kdbench/report';
import { tf } from '@kdbench/engine';
import { modelCounts } from '@kdbench/models';

await tf.setBackend('cpu'); // counting builds no weights, but the count store needs a backend

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { calibrate: { type: 'string' }, 'skip-gpu-pairs': { type: 'boolean', default: false }, protocol: { type: 'string' }, 'data-dir': { type: 'string' } },
});
const dataDir = resolveDataDir(values['data-dir']);

/**
 * What the data dir holds of a dataset: classes, training records per class (the training files'
 * sizes over the record size; the classes are balanced) and whether the evaluation images are held
 * out of them (no test file, as CIFAR-100 here).
 */
function localSplit(dataset: string): { classes: number; perClass: number; holdout: boolean } {
  const spec = datasetSpec(dataset);
  const dir = join(dataDir, spec.folder);
  const records = spec.trainFiles.filter((f) => existsSync(join(dir, f))).reduce((n, f) => n + statSync(join(dir, f)).size / spec.recordBytes, 0);
  if (records === 0) {
    console.error(`suite-cost: no ${spec.title} training files in ${dir} (give the data dir with --data-dir)`);
    process.exit(1);
  }
  return { classes: spec.numClasses, perClass: Math.floor(records / spec.numClasses), holdout: !existsSync(join(dir, spec.testFile)) };
}
/** Training images of a run: the protocol's trainPerClass (if any) of what the data dir holds after its holdout. */
function trainImages(dataset: string, p: { trainPerClass?: number; holdoutPerClass: number }): number {
  const split = localSplit(dataset);
  const available = split.perClass - (split.holdout ? p.holdoutPerClass : 0);
  return split.classes * Math.min(p.trainPerClass ?? available, available);
}

interface Nets { student: number; teacher: number; partner: number }
/** MMACs of forward passes per training image, by method (S student, T teacher, P partner network). */
const PASSES: Record<string, (n: Nets, hp: Record<string, string>) => number> = {
  vanilla: ({ student: S }) => 3 * S,
  pcl: ({ student: S }, hp) => 4 * Number(hp.branches ?? 3) * S, // every view through the trainable net and the temporal mean
  one: ({ student: S }, hp) => 3 * S * (1 + 0.35 * (Number(hp.branches ?? 3) - 1)), // extra last stages
  dml: ({ student: S, partner: P }) => 3 * S + 3 * P,
  kdcl: ({ student: S, partner: P }) => 3 * S + 3 * P,
  dcm: ({ student: S, partner: P }) => 3.3 * S + 3.3 * P, // plus the cross-layer heads
  rocket: ({ student: S, partner: P }) => 3 * S + 3 * P,
  ddgsd: ({ student: S }) => 6 * S, // two distorted views
  cskd: ({ student: S }) => 6 * S, // a second batch of same-class images
  snapshot: ({ student: S }) => 4 * S, // the previous snapshot's forward
  byot: ({ student: S }) => 3.5 * S, // auxiliary heads
  tfkdself: ({ student: S }) => 7 * S, // the self-teacher is trained first
  sskd: ({ student: S, teacher: T }) => 12 * S + 4 * T, // four rotations
  aekd: ({ student: S, teacher: T }) => 3 * S + 3 * T, // three teachers
  ft: ({ student: S, teacher: T }) => 3 * S + 2 * T, // the paraphraser's stage
  jointrd: ({ student: S, teacher: T }) => 3 * S + 3 * T, // the student's features through the teacher's later stages
};

type Settings = { epochs: number; teacherEpochs: number; widthFactor: number; trainPerClass?: number; holdoutPerClass: number };
const protocolOf = (id: string): Settings => getProtocol(id);
const counted = new Map<string, number>();
/** MMACs per image of a network at a width (0 for none). */
function macs(id: string | undefined, width: number): number {
  if (!id) return 0;
  const key = `${id}|${width}`;
  if (!counted.has(key)) counted.set(key, modelCounts(id, { numClasses: 100, seed: 0, widthFactor: width }).macs / 1e6);
  return counted.get(key)!;
}

const meta = new Map(registry.list().map((m) => [m.id, m]));

function passesOf(method: string, n: Nets, hp: Record<string, string>, teacherRequired: boolean): number {
  const f = PASSES[method];
  if (f) return f(n, hp);
  return 3 * n.student + (teacherRequired ? n.teacher : 0);
}

// c: seconds per (image x epoch x MMAC of passes), from recorded rows
let c = 2.4e-6;
let spread = 'no calibration rows given: c is a default';
if (values.calibrate) {
  const rows = readResults(values.calibrate);
  // a row's own training-set size where it records one, else what its protocol takes of the local split
  const imagesOf = (r: (typeof rows)[number]): number =>
    (JSON.parse(r.details || '{}') as { trainImages?: number }).trainImages ?? trainImages(r.dataset, protocolOf(r.protocol));
  const ratios = rows.filter((r) => r.train_seconds > 0).map((r) => {
    const hp = JSON.parse(r.hyperparameters || '{}') as Record<string, string>;
    const width = protocolOf(r.protocol).widthFactor ?? 1;
    const n = { student: macs(r.student, width), teacher: macs(r.teacher || undefined, width), partner: macs(partnerOf(r, meta) ?? undefined, width) };
    return r.train_seconds / (imagesOf(r) * r.epochs * passesOf(r.method, n, hp, Boolean(r.teacher)));
  }).sort((a, b) => a - b);
  if (ratios.length > 0) {
    c = ratios[Math.floor(ratios.length / 2)]!;
    spread = `c fitted on ${ratios.length} rows of ${values.calibrate} (median); the rows' own estimates are off by ${Math.round((ratios[0]! / c - 1) * 100)}% to +${Math.round((ratios.at(-1)! / c - 1) * 100)}%`;
  }
}

for (const file of positionals) {
  const plan = expandSuite(loadSuite(file), { protocol: values.protocol, skipGpuPairs: values['skip-gpu-pairs'] });
  const byPair = new Map<string, { minutes: number; runs: number }>();
  let total = 0;
  for (const run of plan.runs) {
    const r = run.request;
    const hp = r.hp ?? {};
    const p: Settings = { ...protocolOf(r.protocol), ...(r.protocolOverrides as Partial<Settings>) };
    const width = p.widthFactor ?? 1;
    const n = { student: macs(r.student, width), teacher: macs(r.teacher, width), partner: macs(partnerOf({ method: r.method, student: r.student, teacher: r.teacher ?? '', hyperparameters: JSON.stringify(hp) }, meta) ?? undefined, width) };
    const seconds = c * trainImages(r.dataset, p) * p.epochs * passesOf(r.method, n, hp, Boolean(r.teacher));
    const key = `${r.dataset} | ${r.teacher ? `${r.teacher} -> ` : ''}${r.student} | ${r.method}${Object.keys(hp).length ? ` ${JSON.stringify(hp)}` : ''}`;
    const e = byPair.get(key) ?? { minutes: 0, runs: 0 };
    byPair.set(key, { minutes: e.minutes + seconds / 60, runs: e.runs + 1 });
    total += seconds;
  }
  let teacherSeconds = 0;
  for (const t of plan.teachers) {
    const req = t.request;
    const p: Settings = { ...protocolOf(req.protocol), ...(req.protocolOverrides as Partial<Settings> | undefined) };
    teacherSeconds += c * trainImages(req.dataset, p) * p.teacherEpochs * 3 * macs(req.teacher, p.widthFactor);
  }
  console.log(`\n### ${file}${values['skip-gpu-pairs'] ? ' (--skip-gpu-pairs)' : ''}: ${plan.runs.length} runs, ${plan.teachers.length} teachers\n`);
  console.log(`${spread}.\n`);
  console.log('| dataset \\| pair \\| method | runs | minutes per run | minutes, all seeds |');
  console.log('|---|---|---|---|');
  for (const [k, v] of [...byPair].sort((a, b) => b[1].minutes - a[1].minutes)) {
    console.log(`| ${k.replaceAll('|', '\\|')} | ${v.runs} | ${(v.minutes / v.runs).toFixed(0)} | ${v.minutes.toFixed(0)} |`);
  }
  console.log(`\nRuns: ${(total / 3600).toFixed(1)} h of one worker; teachers: ${(teacherSeconds / 3600).toFixed(1)} h; with 2 workers about ${((total + teacherSeconds) / 7200).toFixed(1)} h.`);
}
