/**
 * The reference pairs the suite files declare (`reference:` in a pair), as the report reads them:
 * one entry per dataset of each declaring pair. `kdbench report` collects them from the suite files
 * of a folder (default: benchmarks/ of this checkout), so rows written before a declaration existed
 * match too; a suite file that does not load is named on stderr and skipped.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PairReference } from '@kdbench/report';
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

/** The declarations of every suite file (*.yaml, *.yml, *.json) directly in `dir`; file names in `declaredIn` are relative to the working directory. */
export function loadSuiteReferences(dir: string, warn: (line: string) => void = (l) => console.error(l)): PairReference[] {
  if (!existsSync(dir)) return [];
  const out: PairReference[] = [];
  for (const f of readdirSync(dir).filter((x) => /\.(ya?ml|json)$/.test(x)).sort()) {
    try {
      out.push(...suiteReferences(loadSuite(relative(process.cwd(), join(dir, f)) || f)));
    } catch (e) {
      warn(`report: reference pairs of ${join(dir, f)} skipped: ${(e as Error).message}`);
    }
  }
  return out;
}
