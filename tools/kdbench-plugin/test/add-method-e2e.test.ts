/**
 * A contributor's path end to end, in a temporary copy of the parts the generator edits
 * (packages/response, the registry, benchmarks/smoke.yaml): scaffold a throwaway method `l1kd`,
 * see its generated test fail, write a trivial but real loss (CE + L1 between student and teacher
 * logits) and its hand-computed value, see the generated test pass, the method in the registry
 * listing (the temporary registry.ts, loaded with the temporary response package), and in the
 * report of the smoke suite's methods after two real training steps each (conformance kit trainer,
 * real CIFAR-10 images).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { MethodDefinition, MethodRegistry } from '@kdbench/core';
import { conformanceRun, loadConformanceSplits, metadataFindings, trainingFindings } from '@kdbench/core/testing';
import { initEngine } from '@kdbench/engine';
import { buildSite, type ReportRow } from '@kdbench/report';
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
  for (const p of ['packages/response/package.json', 'packages/response/src', 'packages/response/test', REGISTRY_PATH, 'benchmarks/smoke.yaml']) cpSync(join(repo, p), at(p), { recursive: true });
});
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
    expect(registry.list().findIndex((d) => d.id === 'l1kd')).toBe(registry.list().findIndex((d) => d.id === 'dkd') + 1);
    expect(l1kd).toMatchObject({ family: 'response', knowledge: 'response', scheme: 'offline', teacher: 'required', defaults: { gamma: 1, beta: 1 } });
    expect(metadataFindings(l1kd)).toEqual([]);
  });

  it('trains on real data (conformance) and shows up in the report of the smoke suite', async () => {
    await initEngine({ backend: 'wasm' });
    const splits = await loadConformanceSplits(dataDir);
    expect(trainingFindings(l1kd, { splits })).toEqual([]);
    const suite = parse(readFileSync(at('benchmarks/smoke.yaml'), 'utf8')) as { methods: string[]; pairs: { teacher: string; student: string }[] };
    expect(suite.methods).toEqual(['vanilla', 'kd', 'dkd', 'l1kd']);
    const rows: ReportRow[] = suite.methods.map((id) => {
      const def = registry.get(id);
      const run = conformanceRun(def, splits, 1);
      return {
        run_id: `e2e-${id}`, method: id, family: def.family, knowledge: def.knowledge, scheme: def.scheme, dataset: 'cifar10',
        split: 'test', split_description: 'conformance split', teacher: def.teacher === 'required' ? 'resnet14' : '', student: 'resnet8',
        protocol: 'smoke', protocol_label: 'smoke (generator e2e test): 4 train images/class, 2 epochs, widths x0.25', seed: 1, epochs: 2,
        best_top1: run.result.best.top1, last_top1: run.result.last.top1, train_seconds: run.result.trainSeconds, images_per_second: 0,
        backend: 'wasm', teacher_top1: null, student_params: 0, student_flops: 0, git_commit: 'e2e0000', date: '2026-11-27T00:00:00.000Z',
        details: JSON.stringify({ protocol: { id: 'smoke', trainPerClass: 4, widthFactor: 0.25, epochs: 2 } }),
      };
    });
    const out = at('site');
    const site = await buildSite({ rows, methods: registry.list(), outDir: out, generatedAt: 'test' });
    const board = site.leaderboards.find((b) => b.dataset === 'cifar10')!;
    expect(board.stats.map((s) => s.method)).toContain('l1kd');
    const html = readFileSync(join(out, `${board.id}.html`), 'utf8');
    expect(html).toContain('id="method-l1kd--resnet14--resnet8"');
    expect(html).toContain('href="method-l1kd.html"');
    const page = readFileSync(join(out, 'method-l1kd.html'), 'utf8');
    expect(page).toContain('href="https://example.org/l1kd"');
    expect(page).toMatch(/data-hp="beta".*weight of the distillation term/);
  });
});
