/**
 * Recorded run ids stay valid: every row committed under benchmarks/results/ gets the same run id
 * when its request is validated and hashed today (protocol defaults, optional recipe settings left
 * out, method defaults). A suite therefore skips recorded runs instead of training them again.
 * The exceptions are methods whose defaults changed on purpose since their rows were recorded.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readResults } from '../src/results/arrow-store.js';
import { runId, validateRequest, type RunRequest } from '../src/run.js';
import { repoRoot } from './paths.js';

/**
 * Methods with committed rows recorded before a deliberate change of their defaults: cc and ft gained `form`
 * (RepDistiller's loss by default), byot gained `form` (the authors' pooled hint), dafl reached revision 1 (base-10
 * entropy). Such a row is stale: it lacks a hyperparameter the method has today, or records another revision.
 */
const STALE_METHODS = ['byot', 'cc', 'dafl', 'ft'];

describe('recorded run ids', () => {
  const dir = join(repoRoot, 'benchmarks', 'results');
  const rows = readdirSync(dir).filter((f) => f.endsWith('.arrow')).flatMap((f) => readResults(join(dir, f)).map((row) => ({ file: f, row })));

  it('the committed rows are there to check', () => {
    expect(rows.length).toBeGreaterThan(100);
  });

  it('every committed row that is not stale hashes to its recorded run id, and no stale row does', () => {
    const mismatched: string[] = [];
    const stale = new Set<string>();
    for (const { file, row } of rows) {
      const details = JSON.parse(row.details) as { teacherSeed: number | null; revision?: number };
      const hp = JSON.parse(row.hyperparameters) as Record<string, string>;
      const req: RunRequest = {
        dataset: row.dataset, method: row.method, student: row.student, teacher: row.teacher || undefined, protocol: row.protocol,
        seed: row.seed, teacherSeed: details.teacherSeed ?? 0, hp, dataDir: '', resultsDir: '',
      };
      const v = validateRequest(req);
      const isStale = Object.keys(v.def.defaults).some((k) => !(k in hp)) || (v.def.revision ?? 0) !== (details.revision ?? 0);
      if (isStale) stale.add(row.method);
      const id = runId(req, v);
      if ((id === row.run_id) === isStale) mismatched.push(`${file}: ${row.method} seed ${row.seed} (${row.run_id} -> ${id})`);
    }
    expect(mismatched).toEqual([]);
    expect([...stale].sort()).toEqual(STALE_METHODS);
  });

  it('a method revision above 0 enters the run id; revision 0 (absent) leaves it as it was', () => {
    const req: RunRequest = { dataset: 'cifar10', method: 'kd', student: 'resnet8', teacher: 'resnet20', protocol: 'smoke', seed: 1, dataDir: '', resultsDir: '' };
    const v = validateRequest(req);
    const at = (revision: number | undefined) => runId(req, { ...v, def: { ...v.def, revision } });
    expect(at(undefined)).toBe(runId(req, v));
    expect(at(0)).toBe(runId(req, v));
    expect(at(1)).not.toBe(runId(req, v));
    expect(at(2)).not.toBe(at(1));
  });
});
