/**
 * What a suite's jobs cost, estimated before they run, from multiply-accumulates:
 *   cost of a run = training images x epochs x passes (MMACs per image),
 * training images being what the run's protocol takes of the data dir's split (CIFAR-10 quick:
 * 4,000), passes = 3 x the trained networks' MACs (forward and backward) times the views of the
 * batch each sees, plus one forward of every frozen network (teacher, temporal mean). A teacher
 * costs 3 x its MACs for the protocol's teacher epochs. The method table says what each method adds
 * to the plain 3 x student (+ teacher); it is an estimate from the methods' procedures, not a
 * measurement. Seconds per unit come from recorded rows (CostCalibration): the rows most like the job
 * (same method and pair, else same method and student, ...), since a unit of MACs costs more in some
 * networks (depthwise convolutions) and methods (generators, graph heads) than the count says.
 * One estimate serves the suite's progress line (its ETA weighs jobs by it) and
 * benchmarks/scripts/suite-cost.ts (minutes per pair before a suite runs).
 *
 * Counting a network's MACs builds it with placeholder weights, so a tf backend must be set.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { getProtocol, resolveHyper, type Protocol } from '@kdbench/core';
import { datasetSpec } from '@kdbench/data';
import { modelCounts } from '@kdbench/models';
import { median, partnerOf } from '@kdbench/report';
import { registry } from '../registry.js';
import type { ResultRow } from '../results/schema.js';
import { extraTeachersOf } from '../run.js';

/** MMACs per image of the networks a run uses: S student, T teacher(s), P partner network. */
export interface RunNets {
  student: number;
  teacher: number;
  partner: number;
}

/** MMACs of forward passes per training image, by method; methods not listed: 3 S (+ T). */
const PASSES: Record<string, (n: RunNets, hp: Record<string, string>) => number> = {
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
  ft: ({ student: S, teacher: T }) => 3 * S + 2 * T, // the paraphraser's stage
  jointrd: ({ student: S, teacher: T }) => 3 * S + 3 * T, // the student's features through the teacher's later stages
};

/** MMACs of passes per training image of a run of `method`. */
export function passesOf(method: string, nets: RunNets, hp: Record<string, string>, teacherRequired: boolean): number {
  const f = PASSES[method];
  return f ? f(nets, hp) : 3 * nets.student + (teacherRequired ? nets.teacher : 0);
}

type Settings = Pick<Protocol, 'epochs' | 'teacherEpochs' | 'widthFactor' | 'trainPerClass' | 'holdoutPerClass'>;

/** The protocol's settings with a run's overrides. */
export function settingsOf(protocol: string, overrides?: Partial<Protocol>): Settings {
  return { ...getProtocol(protocol), ...overrides };
}

/**
 * Training images of a run: the protocol's trainPerClass (if any) of what the data dir holds after
 * its holdout (taken when there is no test file, as CIFAR-100 here). The data dir's training files
 * give the records per class (the classes are balanced); without them, the official archive's.
 */
export function trainImages(dataset: string, settings: Pick<Settings, 'trainPerClass' | 'holdoutPerClass'>, dataDir: string): number {
  const spec = datasetSpec(dataset);
  const dir = join(dataDir, spec.folder);
  const local = spec.trainFiles.filter((f) => existsSync(join(dir, f)));
  const records = local.length > 0
    ? local.reduce((n, f) => n + statSync(join(dir, f)).size / spec.recordBytes, 0)
    : spec.trainFiles.length * spec.recordsPerTrainFile;
  const holdout = local.length > 0 && !existsSync(join(dir, spec.testFile));
  const available = Math.floor(records / spec.numClasses) - (holdout ? settings.holdoutPerClass : 0);
  return spec.numClasses * Math.max(0, Math.min(settings.trainPerClass ?? available, available));
}

/** Counts MACs of networks, each (id, width, classes) once. */
export class MacCounter {
  private readonly counted = new Map<string, number>();

  /** MMACs per image of network `id` at `width` (0 for none). */
  mmacs(id: string | undefined | null, width: number, numClasses: number): number {
    if (!id) return 0;
    const key = `${id}|${width}|${numClasses}`;
    if (!this.counted.has(key)) this.counted.set(key, modelCounts(id, { numClasses, seed: 0, widthFactor: width }).macs / 1e6);
    return this.counted.get(key)!;
  }
}

/** The fields of a run that its cost depends on. */
export interface CostedRun {
  dataset: string;
  method: string;
  student: string;
  teacher?: string;
  protocol: string;
  hp?: Record<string, string>;
  protocolOverrides?: Partial<Protocol>;
}

let META: Map<string, ReturnType<typeof registry.list>[number]> | undefined;
const methodMeta = () => (META ??= new Map(registry.list().map((m) => [m.id, m])));

/** The networks' MMACs per image of a run: student, teacher (all of a multi-teacher method's), partner. */
export function runNets(run: CostedRun, macs: MacCounter): RunNets {
  const width = settingsOf(run.protocol, run.protocolOverrides).widthFactor ?? 1;
  const classes = datasetSpec(run.dataset).numClasses;
  const hp = run.hp ?? {};
  const def = registry.get(run.method);
  const extra = run.teacher ? extraTeachersOf({ def, hp: resolveHyper(def, hp) }, run.teacher).map((t) => t.model) : [];
  const teachers = run.teacher ? [run.teacher, ...extra] : [];
  const partner = partnerOf({ method: run.method, student: run.student, teacher: run.teacher ?? '', hyperparameters: JSON.stringify(hp) }, methodMeta());
  return {
    student: macs.mmacs(run.student, width, classes),
    teacher: teachers.reduce((s, t) => s + macs.mmacs(t, width, classes), 0),
    partner: macs.mmacs(partner, width, classes),
  };
}

/** A run's cost in image x epoch x MMAC units. */
export function runCost(run: CostedRun, dataDir: string, macs: MacCounter): number {
  const s = settingsOf(run.protocol, run.protocolOverrides);
  return trainImages(run.dataset, s, dataDir) * s.epochs * passesOf(run.method, runNets(run, macs), run.hp ?? {}, Boolean(run.teacher));
}

/** A teacher's training cost in the same units. */
export function teacherCost(t: { dataset: string; teacher: string; protocol: string; protocolOverrides?: Partial<Protocol> }, dataDir: string, macs: MacCounter): number {
  const s = settingsOf(t.protocol, t.protocolOverrides);
  return trainImages(t.dataset, s, dataDir) * s.teacherEpochs * 3 * macs.mmacs(t.teacher, s.widthFactor ?? 1, datasetSpec(t.dataset).numClasses);
}

/** A recorded row as a costed run, with the settings it ran under (details.protocol) and its own training-set size. */
function rowRun(r: ResultRow): { run: CostedRun; images: number | undefined } {
  const d = JSON.parse(r.details || '{}') as { protocol?: Partial<Protocol>; trainImages?: number };
  const hp = Object.fromEntries(Object.entries(JSON.parse(r.hyperparameters || '{}') as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
  const run: CostedRun = { dataset: r.dataset, method: r.method, student: r.student, protocol: r.protocol, hp, protocolOverrides: { ...d.protocol, epochs: r.epochs } };
  if (r.teacher) run.teacher = r.teacher;
  return { run, images: d.trainImages };
}

/**
 * A row's training seconds at its steady speed: its train_seconds scaled by (the sum over its stages
 * of the stage's median epoch time x its epochs) / (the sum of its epoch times), from details.history.
 * Epochs slowed by something else on the machine (another suite, a test run: 5 to 15 times the
 * usual epoch time was seen) then do not make every later job of that kind look slow. A row without
 * a history keeps its train_seconds.
 */
export function steadyTrainSeconds(r: Pick<ResultRow, 'train_seconds' | 'details'>): number {
  const history = (JSON.parse(r.details || '{}') as { history?: { stage: string; seconds: number }[] }).history ?? [];
  const byStage = new Map<string, number[]>();
  for (const e of history) if (e.seconds > 0) byStage.set(e.stage, [...(byStage.get(e.stage) ?? []), e.seconds]);
  let recorded = 0;
  let steady = 0;
  for (const times of byStage.values()) {
    recorded += times.reduce((a, b) => a + b, 0);
    steady += median(times) * times.length;
  }
  return recorded > 0 ? r.train_seconds * (steady / recorded) : r.train_seconds;
}

/** What a job's seconds per unit are matched on: its method, networks and dataset, and the protocol's settings when known. */
type Alike = Pick<CostedRun, 'method' | 'teacher' | 'student' | 'dataset'> & Partial<Pick<CostedRun, 'protocol' | 'protocolOverrides'>>;

/**
 * From the most to the least alike: what a job's seconds per unit are fitted on. For the same
 * network, rows at the job's width come first: a unit of MACs costs about 2.5 times as much in
 * ResNet110 at widths x0.25 as at x0.5 (recorded: 10.6e-5 against 4.2e-5 s), since thin layers
 * keep the per-layer overheads the count leaves out. Across networks the width factor says little
 * (ResNet152 at x0.25 still has 16 to 512 channels, ResNet110 has 4 to 16), so the method's and
 * all rows are matched at any width.
 */
function similarityKeys(run: Alike): string[] {
  const sameNetwork = [`${run.method}|${run.teacher ?? ''}|${run.student}|${run.dataset}`, `${run.method}||${run.student}`, `|${run.student}`];
  const rest = [`${run.method}|`, '*'];
  if (run.protocol === undefined) return [...sameNetwork, ...rest];
  const width = `@${settingsOf(run.protocol, run.protocolOverrides).widthFactor ?? 1}`;
  return [...sameNetwork.map((k) => `${k}${width}`), ...sameNetwork, ...rest];
}

/**
 * Seconds per unit without recorded rows: the median over the configurations of the committed rows
 * (benchmarks/results/*.arrow, 2026-12-07: 90 configurations, 2 workers on a 2-core x86 machine with
 * the native kernels; 73 of them within a factor of 2 of it). A faster machine finishes sooner.
 */
export const DEFAULT_SECONDS_PER_UNIT = 4.7e-5;

/**
 * Seconds per cost unit, fitted on recorded rows (their train_seconds at steady speed,
 * steadyTrainSeconds). A configuration (method, pair, dataset, hyperparameters, protocol) is timed
 * by its fastest row: its seeds do the same work, so a slower one was slowed by something else
 * (whole runs 10 to 30 times slower were recorded while a second suite shared the cores). A job
 * is timed by the median over the configurations most like it: same method, pair and dataset;
 * else same method and student; else same student (each first at the job's network width, then at
 * any); else same method; else all; else `fallback`.
 * Left out: rows that do not record their training-set size (details.trainImages; older rows,
 * which ran under other engine builds and splits and took up to 7 times as long for the same
 * work) and rows that cannot be costed (a model or method this build does not know).
 */
export class CostCalibration {
  private readonly ratios = new Map<string, number[]>();

  constructor(rows: readonly ResultRow[], macs: MacCounter, private readonly fallback = DEFAULT_SECONDS_PER_UNIT) {
    const fastest = new Map<string, { ratio: number; run: CostedRun }>();
    for (const r of rows) {
      if (!(r.train_seconds > 0)) continue;
      let units: number;
      let configuration: string;
      let run: CostedRun;
      try {
        let images: number | undefined;
        ({ run, images } = rowRun(r));
        if (images === undefined) continue;
        const s = settingsOf(run.protocol, run.protocolOverrides);
        units = images * s.epochs * passesOf(run.method, runNets(run, macs), run.hp ?? {}, Boolean(run.teacher));
        configuration = JSON.stringify([similarityKeys(run)[0], run.hp, run.protocol, s, images]);
      } catch {
        continue;
      }
      if (!(units > 0)) continue;
      const ratio = steadyTrainSeconds(r) / units;
      if (!(ratio >= (fastest.get(configuration)?.ratio ?? Infinity))) fastest.set(configuration, { ratio, run });
    }
    for (const { ratio, run } of fastest.values()) {
      for (const key of similarityKeys(run)) this.ratios.set(key, [...(this.ratios.get(key) ?? []), ratio]);
    }
    for (const list of this.ratios.values()) list.sort((a, b) => a - b);
  }

  /** Seconds per unit for a run. */
  factor(run: Alike): number {
    for (const key of similarityKeys(run)) {
      const list = this.ratios.get(key);
      if (list?.length) return list[Math.floor(list.length / 2)]!;
    }
    return this.fallback;
  }

  /** All configurations' ratios to their median, lowest and highest: how far one factor is from them (`rows`: configurations). */
  spread(): { rows: number; low: number; high: number } | undefined {
    const all = this.ratios.get('*');
    if (!all?.length) return undefined;
    const c = all[Math.floor(all.length / 2)]!;
    return { rows: all.length, low: all[0]! / c, high: all.at(-1)! / c };
  }

  /** Estimated seconds of a run. */
  runSeconds(run: CostedRun, dataDir: string, macs: MacCounter): number {
    return this.factor(run) * runCost(run, dataDir, macs);
  }

  /** Estimated seconds of a teacher's training, fitted as a plain run of its architecture. */
  teacherSeconds(t: Parameters<typeof teacherCost>[0], dataDir: string, macs: MacCounter): number {
    const alike = { method: 'vanilla', student: t.teacher, dataset: t.dataset, protocol: t.protocol, ...(t.protocolOverrides ? { protocolOverrides: t.protocolOverrides } : {}) };
    return this.factor(alike) * teacherCost(t, dataDir, macs);
  }
}

/**
 * Estimated seconds of a suite's pending runs (by run id) and teachers (by key), timed by the
 * recorded rows most like each (`calibratedOn`: how many rows could time them; 0 means a default
 * speed). A job that cannot be costed (a problem its own start reports) gets the mean of the others.
 * Needs a tf backend (MAC counting).
 */
export function estimateJobs(
  runs: readonly { id: string; request: CostedRun }[],
  teachers: readonly { key: string; request: Parameters<typeof teacherCost>[0] }[],
  rows: readonly ResultRow[],
  dataDir: string,
): { runs: Map<string, number>; teachers: Map<string, number>; calibratedOn: number } {
  const macs = new MacCounter();
  const calibration = new CostCalibration(rows, macs);
  const attempt = (cost: () => number): number => {
    try {
      const c = cost();
      return Number.isFinite(c) && c > 0 ? c : NaN;
    } catch {
      return NaN;
    }
  };
  const runSeconds = runs.map((r) => [r.id, attempt(() => calibration.runSeconds(r.request, dataDir, macs))] as const);
  const teacherSeconds = teachers.map((t) => [t.key, attempt(() => calibration.teacherSeconds(t.request, dataDir, macs))] as const);
  const known = [...runSeconds, ...teacherSeconds].map(([, c]) => c).filter((c) => !Number.isNaN(c));
  const mean = known.length ? known.reduce((a, b) => a + b, 0) / known.length : 1;
  const filled = (list: readonly (readonly [string, number])[]) => new Map(list.map(([k, c]) => [k, Number.isNaN(c) ? mean : c]));
  return { runs: filled(runSeconds), teachers: filled(teacherSeconds), calibratedOn: calibration.spread()?.rows ?? 0 };
}
