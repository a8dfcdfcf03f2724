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
 * Methods whose defaults changed after their committed rows: cc and ft gained `form` (RepDistiller's loss by default),
 * byot gained `form` (the authors' pooled hint by default); dafl's revision 1 (base-10 entropy, as the authors' code).
 */
const CHANGED_DEFAULTS = new Set(['cc', 'ft', 'byot', 'dafl']);

describe('recorded run ids', () => {
  const dir = join(repoRoot, 'benchmarks', 'results');
  const rows = readdirSync(dir).filter((f) => f.endsWith('.arrow')).flatMap((f) => readResults(join(dir, f)).map((row) => ({ file: f, row })));

  it('the committed rows are there to check', () => {
    expect(rows.length).toBeGreaterThan(100);
  });

  it('every committed row of an unchanged method hashes to its recorded run id', () => {
    const mismatched: string[] = [];
    for (const { file, row } of rows) {
      const details = JSON.parse(row.details) as { teacherSeed: number | null; protocol: { label: string } };
      const req: RunRequest = {
        dataset: row.dataset, method: row.method, student: row.student, teacher: row.teacher || undefined, protocol: row.protocol,
        seed: row.seed, teacherSeed: details.teacherSeed ?? 0, hp: JSON.parse(row.hyperparameters), dataDir: '', resultsDir: '',
      };
      const id = runId(req, validateRequest(req));
      if ((id === row.run_id) === CHANGED_DEFAULTS.has(row.method)) mismatched.push(`${file}: ${row.method} seed ${row.seed} (${row.run_id} -> ${id})`);
    }
    expect(mismatched).toEqual([]);
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
