/**
 * A contributor's path end to end, in a temporary copy of the parts the generator edits
 * (packages/response, the harness with its registry, benchmarks/smoke.yaml; node_modules linked):
 * scaffold a throwaway method `l1kd`, see its generated test fail, write a trivial but real loss
 * (CE + L1 between student and teacher logits) and its hand-computed value, see the generated test
 * pass, the method in `kdbench methods` of the copy, conformance on real data, and then a real
 * `kdbench suite run benchmarks/smoke.yaml` (worker process, stored teacher, CIFAR-10 images)
 * and `kdbench report` of the copy, whose leaderboard and method page show l1kd.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { MethodDefinition, MethodRegistry } from '@kdbench/core';
import { loadConformanceSplits, metadataFindings, trainingFindings } from '@kdbench/core/testing';
import { initEngine } from '@kdbench/engine';
import { FsTree, generateMethod, REGISTRY_PATH } from '../src/index.js';

const repo = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const tmp = join(repo, 'tools/kdbench-plugin/.tmp', `e2e-${process.pid}`);
const dataDir = process.env.KDBENCH_DATA_DIR ?? resolve(repo, '../shared/datasets');
const at = (p: string) => join(tmp, p);
const edit = (p: string, f: (s: string) => string) => writeFileSync(at(p), f(readFileSync(at(p), 'utf8')));

/** Runs the generated test file with vitest (one file, a few seconds); returns passed/failed counts. */
function runGeneratedTest(): { passed: number; failed: number; out: string } {
  const env = { ...process.env };
  delete env.KDBENCH_TEST_REPORT_DIR; // never write over the real response package's CI report
  const r = spawnSync(join(repo, 'node_modules/.bin/vitest'), ['run', '--root', at('packages/response'), '--config', join(repo, 'packages/response/vitest.config.ts'), 'test/l1kd.test.ts'], { env, encoding: 'utf8', timeout: 60_000 });
  const out = `${r.stdout}${r.stderr}`.replace(/\x1b\[[0-9;]*m/g, '');
  const num = (re: RegExp) => Number(out.match(re)?.[1] ?? 0);
  return { passed: num(/Tests\s+(?:\d+ failed \| )?(\d+) passed/), failed: num(/Tests\s+(\d+) failed/), out };
}

beforeAll(() => {
  mkdirSync(tmp, { recursive: true });
  for (const p of ['packages/response/package.json', 'packages/response/src', 'packages/response/test', 'packages/harness/package.json',
    'packages/harness/bin', 'packages/harness/src', REGISTRY_PATH, 'benchmarks/smoke.yaml']) cpSync(join(repo, p), at(p), { recursive: true });
  symlinkSync(join(repo, 'node_modules'), at('node_modules'));
});

/** The copy's own command line (its registry includes l1kd once edited). */
function kdbench(...args: string[]): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [at('packages/harness/bin/kdbench.js'), ...args], { encoding: 'utf8', timeout: 600_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('adding a method through the generator', () => {
  let registry: MethodRegistry;
  let l1kd: MethodDefinition<any>;

  it('scaffolds l1kd whose generated test fails until the loss is written', () => {
    generateMethod(new FsTree(tmp), { name: 'l1kd', family: 'response', knowledge: 'response', scheme: 'offline', suite: 'benchmarks/smoke.yaml' });
    const r = runGeneratedTest();
    expect(r.failed, r.out).toBe(3);
    expect(r.out).toContain('l1kd: loss not written yet');
  });

  it('passes its generated test once the loss, the value and the paper are written', () => {
    edit('packages/response/src/l1kd.ts', (s) => s
      .replace("title: 'TODO: one-line title'", "title: 'Cross-entropy plus L1 between logits (throwaway test method)'")
      .replace("authors: 'TODO: A. Author, B. Author'", "authors: 'kdbench'")
      .replace("title: 'TODO: paper title'", "title: 'Throwaway method of the generator test'")
      .replace("venue: 'TODO: venue'", "venue: 'kdbench tests'")
      .replace('year: 0, // TODO: publication year', 'year: 2026,')
      .replace("url: 'TODO: https://arxiv.org/abs/...'", "url: 'https://example.org/l1kd'")
      .replace("  void io;\n  throw new Error('l1kd: loss not written yet');", '  return tf.mean(tf.abs(tf.sub(io.student.logits, io.teacher!.logits))) as tf.Scalar;'));
    // |[1, 2, 0] - [2, 0, 1]| = [1, 2, 1], mean 4/3
    edit('packages/response/test/l1kd.test.ts', (s) => s.replace('const expected = NaN;', 'const expected = 4 / 3;').replace("'l1kd (TODO: first author, year)'", "'l1kd'"));
    const r = runGeneratedTest();
    expect(r, r.out).toMatchObject({ passed: 3, failed: 0 });
  });

  it('is in the registry listing, with complete metadata', async () => {
    // the temporary registry, importing the temporary response package instead of the real one
    edit(REGISTRY_PATH, (s) => s.replace("from '@kdbench/response';", "from '../../response/src/index.js';"));
    ({ registry } = await import(at(REGISTRY_PATH)));
    l1kd = registry.get('l1kd');
    expect(registry.list().map((d) => d.id)).toEqual(expect.arrayContaining(['vanilla', 'kd', 'dkd', 'l1kd']));
    expect(registry.list().findIndex((d) => d.id === 'l1kd')).toBe(registry.list().findIndex((d) => d.id === 'takd') + 1); // after the family's last registration
    expect(l1kd).toMatchObject({ family: 'response', knowledge: 'response', scheme: 'offline', teacher: 'required', defaults: { gamma: 1, beta: 1 } });
    expect(metadataFindings(l1kd)).toEqual([]);
  });

  it('trains on real data (conformance), runs in the smoke suite and shows up in its report', async () => {
    await initEngine({ backend: 'wasm' });
    const splits = await loadConformanceSplits(dataDir);
    expect(trainingFindings(l1kd, { splits })).toEqual([]);
    const suite = parse(readFileSync(at('benchmarks/smoke.yaml'), 'utf8')) as { methods: string[] };
    expect(suite.methods).toEqual(['vanilla', 'kd', 'dkd', 'l1kd']);

    const listing = kdbench('methods');
    expect(listing.status, listing.out).toBe(0);
    expect(listing.out).toMatch(/\bl1kd\b/);
    const results = at('results');
    const run = kdbench('suite', 'run', at('benchmarks/smoke.yaml'), '--workers', '1', '--results', results, '--data-dir', dataDir, '--backend', 'wasm');
    expect(run.status, run.out).toBe(0);
    const report = kdbench('report', '--results', results, '--out', at('site'));
    expect(report.status, report.out).toBe(0);
    const boards = JSON.parse(readFileSync(at('site/leaderboards.json'), 'utf8')) as { id: string; dataset: string; stats: { method: string }[] }[];
    const cifar10 = boards.find((b) => b.dataset === 'cifar10')!;
    expect(cifar10.stats.map((st) => st.method)).toContain('l1kd');
    const board = readFileSync(at(`site/${cifar10.id}.html`), 'utf8');
    expect(board).toContain('id="method-l1kd--resnet8--resnet8"');
    expect(board).toContain('href="method-l1kd.html"');
    const page = readFileSync(at('site/method-l1kd.html'), 'utf8');
    expect(page).toContain('href="https://example.org/l1kd"');
    expect(page).toMatch(/data-hp="beta".*weight of the distillation term/);
  }, 900_000);
});
