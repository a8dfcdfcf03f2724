/**
 * The reference pairs the suite files declare (`reference:` in a pair), as the report reads them:
 * one entry per dataset of each declaring pair; the settings (a pair's `hp`) they run, which the
 * report compares with the pair's published rows; and where each method runs on each pair
 * (placements: the survey page says which suite pair would run a row not measured yet). `kdbench report` collects them from the suite files
 * of a folder (default: benchmarks/ of this checkout), so rows written before a declaration existed
 * match too; a suite file that does not load is named on stderr and skipped.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { partnerOf, type DeclaredSetting, type MethodMeta, type PairReference, type SuitePlacement } from '@kdbench/report';
import { registry } from '../registry.js';
import { loadSuite, type Suite } from './suite.js';

/** benchmarks/ of this checkout. */
export const DEFAULT_SUITES_DIR = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../../benchmarks');

export function suiteReferences(suite: Suite): PairReference[] {
  return suite.pairs.flatMap((p) => (p.reference && p.teacher
    ? p.datasets.map((dataset) => ({
      dataset, teacher: p.teacher!, student: p.student, table: p.reference!.table,
      publishedTeacher: p.reference!.teacher, publishedStudent: p.reference!.student, declaredIn: p.reference!.where,
    }))
    : []));
}

/** The settings (hp) each pair declares for its methods, one entry per dataset and method with hyperparameters. */
export function suiteSettings(suite: Suite): DeclaredSetting[] {
  return suite.pairs.flatMap((p) => p.datasets.flatMap((dataset) => p.methods
    .filter((m) => Object.keys(p.hp[m] ?? {}).length > 0)
    .map((method) => ({ dataset, teacher: p.teacher ?? '', student: p.student, method, hyperparameters: { ...p.hp[method] }, declaredIn: p.where }))));
}

/** Every (dataset, pair, method) the suite runs, with the partner network a teacher-free method trains beside the student. */
export function suitePlacements(suite: Suite, meta: ReadonlyMap<string, MethodMeta> = new Map(registry.list().map((m) => [m.id, m]))): SuitePlacement[] {
  return suite.pairs.flatMap((p) => p.datasets.flatMap((dataset) => p.methods.map((method) => ({
    dataset, teacher: p.teacher ?? '', student: p.student, method, where: p.where, gpu: Boolean(p.gpu),
    partner: partnerOf({ method, student: p.student, teacher: p.teacher ?? '', hyperparameters: JSON.stringify({ ...meta.get(method)?.defaults, ...p.hp[method] }) }, meta),
  }))));
}

/** Whether a file in a suites folder is a suite: *.yaml, *.yml or *.json, but not the folder's npm, nx or TypeScript project files. */
export function isSuiteFileName(name: string): boolean {
  return /\.(ya?ml|json)$/.test(name) && !/^(package(-lock)?|project|tsconfig(\..+)?)\.json$/.test(name);
}

/**
 * The reference pairs, declared settings and placements of every suite file (`isSuiteFileName`) directly in
 * `dir`; file names in `declaredIn` are relative to the working directory.
 */
export function loadSuiteDeclarations(dir: string, warn: (line: string) => void = (l) => console.error(l)): { references: PairReference[]; settings: DeclaredSetting[]; placements: SuitePlacement[] } {
  const out = { references: [] as PairReference[], settings: [] as DeclaredSetting[], placements: [] as SuitePlacement[] };
  if (!existsSync(dir)) return out;
  for (const f of readdirSync(dir).filter(isSuiteFileName).sort()) {
    try {
      const suite = loadSuite(relative(process.cwd(), join(dir, f)) || f);
      out.references.push(...suiteReferences(suite));
      out.settings.push(...suiteSettings(suite));
      out.placements.push(...suitePlacements(suite));
    } catch (e) {
      warn(`report: the pairs (references, settings, placements) of ${join(dir, f)} skipped: ${(e as Error).message}`);
    }
  }
  return out;
}
