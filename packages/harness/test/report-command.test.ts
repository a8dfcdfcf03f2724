/** `kdbench report` end to end through the CLI: Arrow file -> static site and exports. Rows are fabricated test data. */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { appendResults } from '../src/results/arrow-store.js';
import type { ResultRow } from '../src/results/schema.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function testRow(method: string, seed: number, top1: number): ResultRow {
  return {
    run_id: `test-${method}-${seed}`, method, family: method === 'kd' ? 'response' : 'baseline', knowledge: method === 'kd' ? 'response' : 'none',
    scheme: 'offline', dataset: 'cifar10', split: 'test', split_description: 'test subsample (TEST DATA)', teacher: method === 'kd' ? 'resnet20' : '',
    student: 'resnet8', protocol: 'smoke', protocol_label: 'TEST DATA (fabricated) smoke', seed, epochs: 1, best_top1: top1 + 1, best_top5: 90,
    best_epoch: 1, last_top1: top1, last_top5: 90, wall_seconds: 2, train_seconds: 1, images_per_second: 100, backend: 'cpu', backend_reason: 'test',
    teacher_hash: '', teacher_top1: method === 'kd' ? 40 : null, student_params: 1000, student_flops: 1e6, git_commit: 'abc1234', date: '2026-11-27T00:00:00Z',
    hyperparameters: '{}', details: JSON.stringify({ protocol: { trainPerClass: 10, widthFactor: 0.25, teacherEpochs: 1 } }),
  };
}

describe('kdbench report', () => {
  it('renders the site from an Arrow results folder and exports the rows beside it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kdb-report-'));
    dirs.push(dir);
    appendResults(join(dir, 'results.arrow'), [testRow('vanilla', 0, 20), testRow('vanilla', 1, 22), testRow('kd', 0, 23), testRow('kd', 1, 24)]);
    const out = join(dir, 'site');
    expect(await main(['report', '--results', dir, '--out', out, '--export-beside-results'])).toBe(0);
    for (const f of ['index.html', 'cifar10-smoke.html', 'published.html', 'results.csv', 'results.json']) expect(existsSync(join(out, f)), f).toBe(true);
    const page = readFileSync(join(out, 'cifar10-smoke.html'), 'utf8');
    expect(page).toContain('TEST DATA (fabricated) smoke');
    expect(page).toContain('id="method-kd--resnet20--resnet8"');
    expect(JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'))).toHaveLength(4);
    expect(existsSync(join(dir, 'results.csv'))).toBe(true);
  });

  it('reads the reference pairs the suites of --suites declare, and says where it looks for run artifacts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kdb-report-'));
    dirs.push(dir);
    appendResults(join(dir, 'results.arrow'), [testRow('vanilla', 0, 20), testRow('vanilla', 1, 22), testRow('kd', 0, 23), testRow('kd', 1, 24)]);
    mkdirSync(join(dir, 'suites'));
    writeFileSync(join(dir, 'suites', 'pair.yaml'), 'name: pair\ndatasets: [cifar10]\nmethods: [vanilla, kd]\npairs:\n  - teacher: resnet20\n    student: resnet8\n    reference: { table: crd, teacher: resnet56, student: resnet20 }\n');
    const out = join(dir, 'site');
    expect(await main(['report', '--results', dir, '--out', out, '--suites', join(dir, 'suites')])).toBe(0);
    const page = readFileSync(join(out, 'cifar10-smoke.html'), 'utf8');
    expect(page).toContain('resnet20 → resnet8 stands in for resnet56 → resnet20 of the CRD table');
    expect(page).toMatch(/pair\.yaml:7/);
    expect(await main(['report', '--results', dir, '--out', out, '--suites', join(dir, 'no-such-folder')])).toBe(2);
    const help: string[] = [];
    const log = console.log;
    console.log = (...a: unknown[]) => help.push(a.join(' '));
    try {
      expect(await main(['report', '--help'])).toBe(0);
    } finally {
      console.log = log;
    }
    expect(help.join('\n')).toContain('<folder of the .arrow file>/runs/<run id>/');
  });

  it('fails clearly without a results file or with a bad metric', async () => {
    expect(await main(['report', '--results', join(tmpdir(), 'kdb-report-missing')])).toBe(2);
    expect(await main(['report', '--metric', 'median'])).toBe(2);
  });
});
