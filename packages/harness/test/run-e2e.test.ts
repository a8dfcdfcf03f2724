import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kernelSetName } from '@kdbench/engine';
import { createModel } from '@kdbench/models';
import { readResults } from '../src/results/arrow-store.js';
import { RunBusyError, runOne, resultsFile, type RunRequest } from '../src/run.js';
import { dataDir } from './paths.js';

const quiet = () => {};

function request(resultsDir: string, patch: Partial<RunRequest> = {}): RunRequest {
  return {
    dataset: 'cifar10', method: 'kd', teacher: 'resnet8', student: 'resnet8', protocol: 'smoke', seed: 3,
    dataDir, resultsDir, backend: 'wasm', log: quiet, ...patch,
  };
}

describe('kdbench run, end to end on real CIFAR-10 (smoke protocol, wasm)', () => {
  it('trains the teacher once, runs the student, appends one row, and skips a repeated run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kdb-run-'));
    const first = await runOne(request(dir));
    expect(first.skipped).toBe(false);
    const row = first.row;
    expect(row).toMatchObject({ method: 'kd', family: 'response', dataset: 'cifar10', split: 'test', protocol: 'smoke', seed: 3, backend: kernelSetName('wasm') });
    expect(row.teacher_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(row.backend_reason).toMatch(/WebAssembly|wasm/i);
    expect(row.best_top1).toBeGreaterThanOrEqual(0);
    expect(row.best_top1).toBeLessThanOrEqual(100);
    expect(JSON.parse(row.hyperparameters)).toEqual({ T: 4, gamma: 0.1, alpha: 0.9 });
    // provenance beside git_commit and backend: commit, dirty flag (and a hash of the changes), backend, kernel set; the training size
    const details = JSON.parse(row.details);
    expect(details.provenance).toEqual({
      commit: row.git_commit.split('+')[0], dirty: row.git_commit.endsWith('+dirty'), diff: row.git_commit.endsWith('+dirty') ? expect.stringMatching(/^[0-9a-f]{12}$/) : null,
      backend: 'wasm', kernels: kernelSetName('wasm'),
    });
    expect(details.trainImages).toBe(100); // smoke: 10 images per class
    expect(readResults(resultsFile(dir))).toHaveLength(1);
    expect(readdirSync(join(dir, 'teachers')).filter((d) => d.startsWith('resnet8-cifar10-smoke'))).toHaveLength(1);
    expect(existsSync(join(dir, 'runs', row.run_id, 'checkpoint.kdbt'))).toBe(false);

    const again = await runOne(request(dir));
    expect(again.skipped).toBe(true);
    expect(again.row.run_id).toBe(row.run_id);
    expect(readResults(resultsFile(dir))).toHaveLength(1);

    // another student seed reuses the stored teacher (same hash) and adds a row
    const other = await runOne(request(dir, { seed: 4 }));
    expect(other.row.teacher_hash).toBe(row.teacher_hash);
    expect(readResults(resultsFile(dir))).toHaveLength(2);

    // rerun: trains again and replaces its row
    const rerun = await runOne(request(dir, { seed: 4, rerun: true }));
    expect(rerun.skipped).toBe(false);
    expect(rerun.row.run_id).toBe(other.row.run_id);
    expect(readResults(resultsFile(dir))).toHaveLength(2);
    expect(existsSync(join(dir, 'runs', row.run_id, 'run.lock'))).toBe(false);

    // a teacher smaller than its student runs, with a warning; so does vanilla given a teacher, which it ignores
    const lines: string[] = [];
    const log = (l: string) => lines.push(l);
    await runOne(request(dir, { student: 'resnet14', seed: 5, log }));
    expect(lines).toContainEqual(expect.stringMatching(/^warning: the teacher resnet8 \([\d.]+ k parameters\) is smaller than the student resnet14 \([\d.]+ k\): /));
    const scopes: string[] = [];
    lines.length = 0;
    const plain = await runOne(request(dir, { method: 'vanilla', seed: 5, log, onEvent: (scope) => scopes.push(scope) }));
    expect(lines[0]).toBe("warning: method 'vanilla' trains without a teacher: --teacher resnet8 is ignored");
    expect(new Set(scopes)).toEqual(new Set(['vanilla resnet8 s5']));
    expect(plain.row.teacher).toBe('');
    expect(readResults(resultsFile(dir))).toHaveLength(4);
  });

  it('a model id with a width multiplier trains that net as teacher and student and is recorded as written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kdb-width-'));
    const { row } = await runOne(request(dir, { teacher: 'resnet8@0.5', student: 'resnet8@0.5', protocolOverrides: { epochs: 1 } }));
    expect(row).toMatchObject({ teacher: 'resnet8@0.5', student: 'resnet8@0.5' });
    // smoke builds at widthFactor 0.25; the multiplier halves it again
    const narrow = createModel('resnet8', { numClasses: 10, seed: 0, widthFactor: 0.125 });
    expect(row.student_params).toBe(narrow.paramCount());
    narrow.dispose();
    expect(readdirSync(join(dir, 'teachers')).filter((d) => d.startsWith('resnet8@0.5-cifar10-smoke'))).toHaveLength(1);
  });

  it('refuses a run another live process is training, and takes over the lock of a dead one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kdb-lock-'));
    const plan = { method: 'vanilla', teacher: undefined, protocolOverrides: { epochs: 1 } };
    const first = await runOne(request(dir, plan));
    const runDir = join(dir, 'runs', first.row.run_id);
    mkdirSync(runDir, { recursive: true });
    writeFileSync(join(runDir, 'run.lock'), `${hostname()} ${process.pid}`); // held by a live process (this one)
    await expect(runOne(request(dir, { ...plan, rerun: true }))).rejects.toThrow(RunBusyError);
    await expect(runOne(request(dir, { ...plan, rerun: true }))).rejects.toThrow(/is being trained by .* pid \d+/);
    writeFileSync(join(runDir, 'run.lock'), `${hostname()} 2147483646`); // a pid that does not exist
    const taken = await runOne(request(dir, { ...plan, rerun: true }));
    expect(taken.skipped).toBe(false);
    expect(existsSync(join(runDir, 'run.lock'))).toBe(false);
  });

  it('an interrupted run resumes from its checkpoint and ends exactly like an uninterrupted one', async () => {
    const overrides = { epochs: 2 };
    const straight = await runOne(request(mkdtempSync(join(tmpdir(), 'kdb-a-')), { method: 'vanilla', teacher: undefined, protocolOverrides: overrides }));

    const dir = mkdtempSync(join(tmpdir(), 'kdb-b-'));
    let epochs = 0;
    const interrupted = runOne(request(dir, {
      method: 'vanilla', teacher: undefined, protocolOverrides: overrides,
      onEvent: (_scope, e) => {
        if (e.type === 'epoch' && ++epochs === 1) throw new Error('killed after epoch 1');
      },
    }));
    await expect(interrupted).rejects.toThrow(/killed after epoch 1/);
    expect(readResults(resultsFile(dir))).toHaveLength(0);
    const runDirs = readdirSync(join(dir, 'runs'));
    expect(existsSync(join(dir, 'runs', runDirs[0]!, 'checkpoint.kdbt'))).toBe(true);

    const resumed = await runOne(request(dir, { method: 'vanilla', teacher: undefined, protocolOverrides: overrides }));
    expect(JSON.parse(resumed.row.details).resumedFromEpoch).toBe(1);
    expect(resumed.row.run_id).toBe(straight.row.run_id);
    // same seed, same backend: identical losses and accuracies, whether interrupted or not
    const h1 = JSON.parse(straight.row.details).history;
    const h2 = JSON.parse(resumed.row.details).history;
    expect(h2.map((r: { losses: unknown; eval: unknown }) => [r.losses, r.eval])).toEqual(h1.map((r: { losses: unknown; eval: unknown }) => [r.losses, r.eval]));
    expect(resumed.row.last_top1).toBe(straight.row.last_top1);
    // the label states the effective values
    expect(straight.row.protocol_label).toMatch(/, 2 epochs \(teachers 1\) \[overrides: epochs=2\]$/);
  });
});
