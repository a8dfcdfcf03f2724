/**
 * Every crash of issue 21, run through the real `kdbench` process: each must end with one line
 * `kdbench <command>: ...`, the exit code of its kind, and no stack (and never the wasm backend's
 * 38 KB minified source line).
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../src/cli/errors.js';
import { dataDir, repoRoot } from './paths.js';

const cli = fileURLToPath(new URL('../bin/kdbench.js', import.meta.url));
const crashFixture = fileURLToPath(new URL('./fixtures/crash-after-wasm.ts', import.meta.url));

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

function spawnNode(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KDBENCH_DEBUG: '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const kdbench = (...args: string[]) => spawnNode([cli, ...args]);

/** One `kdbench <command>:` error line matching `pattern`, the exit code, no stack, nothing huge. */
function expectOneLine(r: Outcome, code: number, pattern: RegExp): void {
  const errors = r.stderr.split('\n').filter((l) => /^kdbench( \w+)?: /.test(l) && !/: warning: /.test(l));
  expect(errors, r.stderr).toHaveLength(1);
  expect(errors[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(r.stderr.length, r.stderr.slice(0, 300)).toBeLessThan(2000);
  expect(r.code, r.stderr).toBe(code);
}

const run = ['run', '--dataset', 'cifar10', '--student', 'resnet8', '--protocol', 'smoke', '--backend', 'wasm'];

/** A results folder this process cannot create: under a read-only folder, or under /sys for root (who may write anywhere else). */
function unwritableResults(): string {
  if (process.getuid?.() === 0) return '/sys/kdbench-test-results';
  const parent = mkdtempSync(join(tmpdir(), 'kdb-ro-'));
  chmodSync(parent, 0o555);
  return join(parent, 'results');
}

describe('kdbench: one line per failure, an exit code per kind, no stack', () => {
  it('an unwritable results folder fails before the data load (I/O)', async () => {
    const results = unwritableResults();
    const r = await kdbench(...run, '--method', 'vanilla', '--results', results, '--data-dir', dataDir);
    expectOneLine(r, EXIT.io, /^kdbench run: cannot create .*kdbench-test-results|results: (permission denied|operation not permitted) \(the results folder\)$/);
    expect(r.stderr).not.toMatch(/^backend: /m); // nothing was loaded
  });

  it('--results pointing at a file (I/O) and --data-dir pointing at a file (usage)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kdb-files-'));
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    const [results, data] = await Promise.all([
      kdbench(...run, '--method', 'vanilla', '--results', file, '--data-dir', dataDir),
      kdbench(...run, '--method', 'vanilla', '--results', join(dir, 'results'), '--data-dir', file),
    ]);
    expectOneLine(results, EXIT.io, /^kdbench run: .*a-file is a file, not a folder \(the results folder\)$/);
    expectOneLine(data, EXIT.usage, /^kdbench run: data dir .*a-file is a file, not a folder/);
  });

  it('bad string hyperparameters and model-id hyperparameters are refused before anything loads (usage)', async () => {
    const results = mkdtempSync(join(tmpdir(), 'kdb-hp-'));
    const [kdcl, dml, takd] = await Promise.all([
      kdbench(...run, '--method', 'kdcl', '--hp', 'ensemble=median', '--results', results, '--data-dir', dataDir),
      kdbench(...run, '--method', 'dml', '--hp', 'peer=resnet9', '--results', results, '--data-dir', dataDir),
      kdbench(...run, '--method', 'takd', '--teacher', 'resnet20', '--hp', 'assistant=big', '--results', results, '--data-dir', dataDir),
    ]);
    expectOneLine(kdcl, EXIT.usage, /^kdbench run: method 'kdcl': hyperparameter 'ensemble' must be one of 'minlogit', 'naive', got 'median'$/);
    expectOneLine(dml, EXIT.usage, /^kdbench run: method 'dml': hyperparameter 'peer' must be one of '', 'resnet8', .*got 'resnet9'$/);
    expectOneLine(takd, EXIT.usage, /^kdbench run: method 'takd': hyperparameter 'assistant' must be one of .*got 'big'$/);
    for (const r of [kdcl, dml, takd]) expect(r.stderr).not.toMatch(/^backend: /m);
    expect(existsSync(join(results, 'runs'))).toBe(false); // refused before any output was made
  });

  it('a data error after the wasm backend is loaded is one line (data)', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'kdb-nodata-'));
    const r = await kdbench(...run, '--method', 'vanilla', '--results', join(empty, 'results'), '--data-dir', empty);
    expect(r.stderr).toMatch(/^backend: wasm/m);
    expectOneLine(r, EXIT.data, /^kdbench run: CIFAR-10 data not found: looked for the folder .*kdb-nodata-/);
  });

  it('an error escaping every handler after the wasm backend loaded is one line (internal), with the stack only in debug', async () => {
    const [thrown, rejected, debug] = await Promise.all([
      spawnNode(['--import', 'tsx', crashFixture, 'throw']),
      spawnNode(['--import', 'tsx', crashFixture, 'reject']),
      spawnNode(['--import', 'tsx', crashFixture, 'throw'], { KDBENCH_DEBUG: '1' }),
    ]);
    expectOneLine(thrown, EXIT.internal, /^kdbench run: internal error: thrown after the wasm backend loaded \(run again with --debug/);
    expectOneLine(rejected, EXIT.internal, /^kdbench run: internal error: rejected after the wasm backend loaded/);
    expect(debug.code).toBe(EXIT.internal);
    expect(debug.stderr).toMatch(/^\s+at .*crash-after-wasm\.ts/m);
  });

  it('--workers -1 is one line, not the argument parser\'s text and the whole help (usage)', async () => {
    const r = await kdbench('suite', 'run', join(repoRoot, 'benchmarks/smoke.yaml'), '--workers', '-1');
    expectOneLine(r, EXIT.usage, /^kdbench suite: --workers must be >= 0, got -1$/);
    expect(r.stdout).toBe('');
  });
});

describe('kdbench suite: problems found before anything runs', () => {
  it('--dry-run reports every bad value of a suite file, each at its own line (usage)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kdb-suite-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, [
      'name: bad', //                                   1
      'datasets: [cifar10]', //                         2
      'protocol: smoke', //                             3
      'methods: [vanilla, kdcl]', //                    4
      'pairs:', //                                      5
      '  - teacher: resnet20', //                       6
      '    student: resnet8', //                        7
      '    hp:', //                                     8
      '      kdcl: { ensemble: median }', //            9
      '  - teacher: resnet20', //                       10
      '    student: resnet8', //                        11
      '    set: { epochs: 1.5 }', //                    12
      '    methods: [takd]', //                         13
      '    hp: { takd: { assistant: big } }', //        14
      '',
    ].join('\n'));
    const r = await kdbench('suite', 'run', file, '--dry-run', '--results', join(dir, 'results'));
    expect(r.code, r.stderr).toBe(EXIT.usage);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(new RegExp(`^kdbench suite: ${file}:9: method 'kdcl': hyperparameter 'ensemble' must be one of 'minlogit', 'naive', got 'median'$`)),
      expect.stringMatching(new RegExp(`^kdbench suite: ${file}:12: set: epochs must be a positive integer, got '1.5'$`)),
      expect.stringMatching(new RegExp(`^kdbench suite: ${file}:14: method 'takd': hyperparameter 'assistant' must be one of .*got 'big'$`)),
    ]);
  });

  it('warns for absurd epochs and workers but runs the dry run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kdb-suite-'));
    const file = join(dir, 'big.yaml');
    writeFileSync(file, 'name: big\ndatasets: [cifar10]\nseeds: 1\nmethods: [vanilla]\nset:\n  epochs: 100000000\npairs:\n  - student: resnet8\n');
    mkdirSync(join(dir, 'results'));
    const r = await kdbench('suite', 'run', file, '--dry-run', '--workers', '1000', '--results', join(dir, 'results'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`^kdbench suite: warning: ${file}:6: epochs: 100000000 is more than 2400`, 'm'));
    expect(r.stderr).toMatch(/^kdbench suite: warning: --workers 1000 is more than the \d+ cores here/m);
    expect(r.stdout).toMatch(/1 runs, 1 to run/);
    expect(r.stdout).toMatch(/^estimated \(multiply-accumulates, no recorded rows to time them by: a default speed; rough\): [\d.]+ h of runs and up to 0\.0 h of teachers \(none if stored\), about [\d.]+ h with 1000 workers$/m);
  });
});
