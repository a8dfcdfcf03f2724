/**
 * Published numbers (benchmarks/published/*.csv, copies of the sources listed in its README):
 * the survey's Tables 5 (CIFAR-10) and 6 (CIFAR-100), the CRD benchmark with the DKD rows, the
 * data-free table and HKD's table.
 * Gains are computed from each row's own accuracies; a printed gain that disagrees with them by
 * more than rounding is marked (the survey has three such rows, named in their `note`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCsv } from './csv.js';
import { methodId, methodSetting, modelId } from './names.js';

/** benchmarks/published of this checkout. */
export const DEFAULT_PUBLISHED_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../benchmarks/published');

/** The ids of the published tables `loadPublished` returns (suite files name them in `reference.table`). */
export const PUBLISHED_TABLE_IDS = ['survey-t5', 'survey-t6', 'crd', 'dkd', 'datafree', 'hkd'] as const;

/** A printed gain further than this from distilled - student (both printed to 2 decimals) is a mismatch. */
export const GAIN_TOLERANCE = 0.015;

export interface PublishedRow {
  table: string;
  dataset: string;
  source: string;
  scheme: string | null;
  /** Method label as published, and its kdbench id (null: no counterpart). */
  method: string;
  methodId: string | null;
  /** The hyperparameters the row ran with beyond the method's defaults (HKD+KD: hkd with alpha 1), or null. */
  hyperparameters: Record<string, number | string> | null;
  reference: string | null;
  knowledge: string | null;
  teacher: string;
  teacherId: string | null;
  student: string;
  studentId: string | null;
  teacherAcc: number | null;
  /** The student trained alone. */
  studentAcc: number | null;
  /** The distilled student (for `Student` rows: the student trained alone). */
  distilledAcc: number | null;
  distilledTeacherAcc: number | null;
  gainPrinted: number | null;
  /** distilledAcc - studentAcc, rounded to 2 decimals. */
  gain: number | null;
  gainMismatch: boolean;
  note: string;
}

export interface PublishedTable {
  id: string;
  title: string;
  /** The table's name in a sentence ("the CRD table"). */
  short: string;
  dataset: string;
  file: string;
  source: string;
  /** What the numbers are (protocol of the source), shown with the table. */
  protocolNote: string;
  rows: PublishedRow[];
}

function num(s: string | undefined): number | null {
  if (s === undefined || s.trim() === '') return null;
  const v = Number(s);
  return Number.isFinite(v) ? v : null;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

function withGain(r: Omit<PublishedRow, 'gain' | 'gainMismatch'>): PublishedRow {
  const gain = r.distilledAcc !== null && r.studentAcc !== null ? round2(r.distilledAcc - r.studentAcc) : null;
  const gainMismatch = gain !== null && r.gainPrinted !== null && Math.abs(gain - r.gainPrinted) > GAIN_TOLERANCE;
  return { ...r, gain, gainMismatch };
}

function readCsv(dir: string, file: string): Record<string, string>[] {
  const path = join(dir, file);
  if (!existsSync(path)) throw new Error(`published table ${path} is missing (benchmarks/published holds copies of the reference CSVs)`);
  return parseCsv(readFileSync(path, 'utf8'));
}

function surveyTable(dir: string, file: string, id: string, title: string, short: string, dataset: string): PublishedTable {
  const source = 'Gou, Yu, Maybank, Tao: Knowledge Distillation: A Survey, IJCV 2021 (arXiv 2006.05525 v7)';
  const rows = readCsv(dir, file).map((r) =>
    withGain({
      table: id, dataset, source,
      scheme: r.scheme || null, method: r.method!, methodId: methodId(r.method!), hyperparameters: methodSetting(r.method!), reference: r.reference || null,
      knowledge: r.knowledge || null, teacher: r.teacher ?? '', teacherId: modelId(r.teacher ?? ''),
      student: r.student ?? '', studentId: modelId(r.student ?? ''), teacherAcc: num(r.teacher_acc),
      studentAcc: num(r.student_acc), distilledAcc: num(r.distilled_acc), distilledTeacherAcc: num(r.distilled_teacher_acc),
      gainPrinted: num(r.gain_printed), note: r.note ?? '',
    }),
  );
  return {
    id, title, short, dataset, file, source, rows,
    protocolNote: 'as collected by the survey from each method\'s paper: every row has its own protocol (epochs, augmentation, teacher)',
  };
}

/**
 * Rows of a file that holds one accuracy per (teacher, student, method), with `Teacher` and
 * `Student` rows per pair: each method row (the `Student` row included, as vanilla) gets its pair's
 * teacher and student accuracies, the first of the pair in `baselines` (the CRD/DKD file lists the
 * CRD rows first: the DKD rows take the baselines of the CRD table's pair, which the DKD paper reprints).
 */
function pairAccuracyRows(recs: Record<string, string>[], baselines: Record<string, string>[], table: string, source: (r: Record<string, string>) => string): PublishedRow[] {
  const pairKey = (r: Record<string, string>) => `${r.teacher}|${r.student}`;
  const first = (method: string) => {
    const acc = new Map<string, number>();
    for (const r of baselines) if (r.method === method && !acc.has(pairKey(r))) acc.set(pairKey(r), num(r.top1)!);
    return acc;
  };
  const [teacherAcc, studentAcc] = [first('Teacher'), first('Student')];
  return recs.filter((r) => r.method !== 'Teacher').map((r) =>
    withGain({
      table, dataset: 'cifar100', source: source(r), scheme: 'offline', method: r.method!, methodId: methodId(r.method!), hyperparameters: methodSetting(r.method!),
      reference: null, knowledge: null, teacher: r.teacher!, teacherId: modelId(r.teacher!), student: r.student!,
      studentId: modelId(r.student!), teacherAcc: teacherAcc.get(pairKey(r)) ?? null, studentAcc: studentAcc.get(pairKey(r)) ?? null,
      distilledAcc: num(r.top1), distilledTeacherAcc: null, gainPrinted: null, note: r.note ?? '',
    }),
  );
}

/** The CRD/DKD file, split by its `source` column into the CRD table and the DKD table. */
function repdistillerTables(dir: string, file: string): PublishedTable[] {
  const recs = readCsv(dir, file);
  const defs = [
    { id: 'crd', prefix: 'CRD', short: 'CRD table', title: 'CRD benchmark, CIFAR-100 (Tian et al., ICLR 2020)', protocolNote: 'CRD protocol: full CIFAR-100, 240 epochs, last epoch, one run per cell' },
    { id: 'dkd', prefix: 'DKD', short: 'DKD table', title: 'DKD paper, CIFAR-100 (Zhao et al., CVPR 2022)', protocolNote: 'CRD protocol, best epoch, mean of 5 runs; teacher/student accuracies from the CRD table of the same pair' },
  ];
  return defs.map((d) => {
    const mine = recs.filter((r) => r.source?.startsWith(d.prefix));
    const rows = pairAccuracyRows(mine, recs, d.id, (r) => r.source!);
    return { id: d.id, title: d.title, short: d.short, dataset: 'cifar100', file, source: mine[0]?.source ?? d.prefix, protocolNote: d.protocolNote, rows };
  });
}

/** HKD's Table 1 (five CRD-benchmark pairs; the baselines and X+KD rows as the HKD authors re-ran them). */
function hkdTable(dir: string, file: string): PublishedTable {
  const recs = readCsv(dir, file);
  const source = recs[0]?.source ?? 'HKD (Zhou et al., ICCV 2021)';
  return {
    id: 'hkd', title: 'HKD paper, CIFAR-100 (Zhou et al., ICCV 2021)', short: 'HKD table', dataset: 'cifar100', file, source,
    protocolNote: 'CRD protocol (full CIFAR-100, 240 epochs); baselines re-run by the HKD authors; number of runs and best or last epoch not stated; the std is in the note',
    rows: pairAccuracyRows(recs, recs, 'hkd', () => source),
  };
}

/**
 * The data-free table (one accuracy per dataset, pair and method; `Teacher` and `Student` rows give
 * the pair's teacher and its student trained on real data): the gain is against that real-data student.
 */
function dataFreeTable(dir: string, file: string): PublishedTable {
  const recs = readCsv(dir, file);
  const pairKey = (r: Record<string, string>) => `${r.dataset}|${r.teacher}|${r.student}`;
  const acc = (m: string) => new Map(recs.filter((r) => r.method === m).map((r) => [pairKey(r), num(r.top1)!]));
  const [teacherAcc, studentAcc] = [acc('Teacher'), acc('Student')];
  const rows = recs.filter((r) => r.method !== 'Teacher' && r.method !== 'Student').map((r) =>
    withGain({
      table: 'datafree', dataset: r.dataset!, source: 'CMI (Fang et al., IJCAI 2021) README', scheme: 'offline', method: r.method!,
      methodId: methodId(r.method!), hyperparameters: methodSetting(r.method!), reference: null, knowledge: null, teacher: r.teacher!, teacherId: modelId(r.teacher!), student: r.student!,
      studentId: modelId(r.student!), teacherAcc: teacherAcc.get(pairKey(r)) ?? null, studentAcc: studentAcc.get(pairKey(r)) ?? null,
      distilledAcc: num(r.top1), distilledTeacherAcc: null, gainPrinted: null, note: r.note ?? '',
    }),
  );
  return {
    id: 'datafree', title: 'Data-free distillation, CIFAR (CMI README, Fang et al., IJCAI 2021)', short: 'data-free table (CMI)', dataset: 'cifar10', file,
    source: 'CMI (Fang et al., IJCAI 2021)',
    protocolNote: 'full CIFAR, teachers trained 200 epochs on all 50k images, students distilled without real images; DeepInversion with 2k iterations; the gain is against the student trained on real data',
    rows,
  };
}

/** Loads the survey's Tables 5 and 6, the CRD and DKD tables, the data-free table and HKD's table from `dir`. */
export function loadPublished(dir: string = DEFAULT_PUBLISHED_DIR): PublishedTable[] {
  return [
    surveyTable(dir, 'survey-table5-cifar10.csv', 'survey-t5', 'Survey Table 5, CIFAR-10 (Gou et al., IJCV 2021)', 'survey\'s Table 5', 'cifar10'),
    surveyTable(dir, 'survey-table6-cifar100.csv', 'survey-t6', 'Survey Table 6, CIFAR-100 (Gou et al., IJCV 2021)', 'survey\'s Table 6', 'cifar100'),
    ...repdistillerTables(dir, 'repdistiller-cifar100.csv'),
    ...(existsSync(join(dir, 'datafree-cifar.csv')) ? [dataFreeTable(dir, 'datafree-cifar.csv')] : []),
    ...(existsSync(join(dir, 'hkd-cifar100.csv')) ? [hkdTable(dir, 'hkd-cifar100.csv')] : []),
  ];
}
