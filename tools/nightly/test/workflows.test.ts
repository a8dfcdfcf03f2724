/**
 * The GitHub Actions workflows (.github/workflows): both pass the workflow schema of
 * @action-validator/cli (WebAssembly, offline), and the nightly's steps run here as the runner
 * would run them, two nights in a row, on the smoke protocol: the `run:` steps execute in bash with
 * the workflow's environment; the `uses:` steps are what this checkout already is (checkout, Node),
 * or what keeping one results folder between nights does (the cache of the teacher store and the
 * history). The steps that need sudo or a network (OpenBLAS, npm ci, the CIFAR download) are the
 * only ones skipped, by name: a step added to the workflow runs here or fails this test.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readResults } from '@kdbench/harness';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const workflows = join(root, '.github/workflows');
const validator = join(root, 'node_modules/.bin/action-validator');
const dataDir = process.env.KDBENCH_DATA_DIR ?? resolve(root, '../shared/datasets');
const dirs: string[] = [];
const tmp = (prefix: string) => {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

interface Step {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  if?: string;
  env?: Record<string, string>;
  'continue-on-error'?: boolean;
}
interface Workflow {
  env: Record<string, string>;
  jobs: Record<string, { steps: Step[]; outputs?: Record<string, string> }>;
}

const load = (file: string) => parse(readFileSync(join(workflows, file), 'utf8')) as Workflow;
const validate = (file: string) => spawnSync(process.execPath, [validator, file], { encoding: 'utf8' });

describe('workflow files', () => {
  it.each(['nightly.yml', 'benchmark.yml'])('%s passes the GitHub Actions workflow schema', (f) => {
    const r = validate(join(workflows, f));
    expect(r.stderr + r.stdout).toBe('');
    expect(r.status).toBe(0);
  });

  it('the validator rejects a broken workflow (a job without runs-on, a misspelt key)', () => {
    const d = tmp('kdb-workflow-');
    const broken = readFileSync(join(workflows, 'nightly.yml'), 'utf8').replace('    runs-on: ubuntu-latest\n    timeout-minutes: 360\n', '    timeout-minutes: 360\n');
    writeFileSync(join(d, 'broken.yml'), broken);
    expect(validate(join(d, 'broken.yml')).status).toBe(1);
    writeFileSync(join(d, 'typo.yml'), readFileSync(join(workflows, 'benchmark.yml'), 'utf8').replace('workflow_dispatch:', 'workflow_dispach:'));
    expect(validate(join(d, 'typo.yml')).status).toBe(1);
  });

  it('the benchmark workflow lists shards 0..n-1 and refuses a bad count', () => {
    const plan = load('benchmark.yml').jobs.plan!.steps.find((s) => s.id === 'shards')!;
    const run = (shards: string) => {
      const out = join(tmp('kdb-plan-'), 'out');
      writeFileSync(out, '');
      const r = spawnSync('bash', ['-e', '-c', plan.run!], { env: { ...process.env, SHARDS: shards, GITHUB_OUTPUT: out }, encoding: 'utf8' });
      return { status: r.status, output: readFileSync(out, 'utf8'), stderr: r.stderr };
    };
    expect(run('3')).toMatchObject({ status: 0, output: 'list=[0,1,2]\n' });
    const bad = run('0');
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain('shards must be a whole number >= 1, got 0');
  });
});

/** The default of a workflow env value: `${{ inputs.x || 'd' }}` -> d; plain text as is. */
function envDefault(v: string): string {
  const m = /^\$\{\{\s*inputs\.\w+\s*\|\|\s*'([^']*)'\s*\}\}$/.exec(v);
  return m ? m[1]! : v;
}

/** Steps that need sudo or the network; this checkout is already installed and the data is local. */
const SKIPPED = ['Install OpenBLAS for the native kernels', 'Install', 'Fetch CIFAR (md5-checked; skipped when cached)'];
/** What each `uses:` step amounts to here. */
const USES: Record<string, string> = {
  'actions/checkout@v4': 'this checkout',
  'actions/setup-node@v4': 'this Node',
  'actions/cache@v4': 'the local CIFAR files ($KDBENCH_DATA_DIR)',
  'actions/cache/restore@v4': 'the nightly folder kept from the previous night',
  'actions/cache/save@v4': 'the nightly folder kept for the next night',
  'actions/upload-pages-artifact@v3': 'the site folder, checked below',
};

describe.skipIf(!existsSync(join(dataDir, 'cifar-10-batches-bin')))('the nightly workflow, dry-run here on the smoke protocol', () => {
  const wf = load('nightly.yml');
  const steps = wf.jobs.nightly!.steps;
  const work = tmp('kdb-nightly-wf-');
  const env: Record<string, string> = {
    ...Object.fromEntries(Object.entries(wf.env).map(([k, v]) => [k, envDefault(String(v))])),
    NIGHTLY_DIR: join(work, 'nightly'), SITE_DIR: join(work, 'site'), KDBENCH_DATA_DIR: dataDir,
    SEEDS: '1', WORKERS: '1', // one seed and one worker keep the dry run short on a shared machine
  };

  /** Runs the job's steps like the runner: `if:` on earlier outcomes, continue-on-error, GITHUB_OUTPUT per step. */
  function night() {
    const outcome = new Map<string, string>();
    const outputs = new Map<string, string>();
    const ran: string[] = [];
    let failed = false;
    for (const s of steps) {
      const label = s.name ?? s.uses!;
      if (s.if) {
        const m = /^steps\.(\w+)\.outcome == '(\w+)'$/.exec(s.if);
        expect(m, `condition of '${label}'`).not.toBeNull();
        if (outcome.get(m![1]!) !== m![2]) continue;
      } else if (failed) continue;
      if (s.uses) {
        expect(USES[s.uses], `what '${s.uses}' is in the dry run`).toBeDefined();
        continue;
      }
      if (SKIPPED.includes(label)) continue;
      const out = join(work, `output-${ran.length}`);
      writeFileSync(out, '');
      const r = spawnSync('bash', ['-e', '-c', s.run!], { cwd: root, env: { ...process.env, ...env, ...s.env, GITHUB_OUTPUT: out }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
      ran.push(label);
      const ok = r.status === 0;
      if (s.id) outcome.set(s.id, ok ? 'success' : 'failure');
      if (s.id) for (const line of readFileSync(out, 'utf8').split('\n').filter(Boolean)) outputs.set(`${s.id}.${line.split('=')[0]}`, line.slice(line.indexOf('=') + 1));
      if (!ok && !s['continue-on-error']) failed = true;
      if (label === 'Run the nightly') expect(r.stdout, r.stderr.slice(-2000)).toMatch(/\d+ rows -> .*history\.arrow; \d+ regressions, no failed runs/);
    }
    return { ran, outcome, outputs, failed };
  }

  it('defaults to the smoke suite and protocol', () => {
    expect([env.SUITE, env.PROTOCOL]).toEqual(['benchmarks/smoke.yaml', 'smoke']);
    expect(steps.filter((s) => s.run && SKIPPED.includes(s.name ?? '')).map((s) => s.name)).toEqual(SKIPPED);
  });

  it('runs two nights: the history grows, the site is rebuilt with both, no step fails', () => {
    const first = night();
    expect(first.ran).toEqual(['Run the nightly', 'Mark the site as built']);
    expect(first.outcome.get('nightly')).toBe('success');
    expect(first.outputs.get('site.built')).toBe('true');
    expect(first.failed).toBe(false);
    const rows = readResults(join(env.NIGHTLY_DIR!, 'history.arrow'));
    expect(rows.map((r) => r.method).sort()).toEqual(['dkd', 'kd', 'vanilla']);
    expect(existsSync(join(env.NIGHTLY_DIR!, 'teachers'))).toBe(true);

    const second = night();
    expect(second.outcome.get('nightly')).toBe('success');
    const history = readResults(join(env.NIGHTLY_DIR!, 'history.arrow'));
    expect(history).toHaveLength(6);
    expect(new Set(history.map((r) => r.run_id)).size).toBe(6);
    const board = readFileSync(join(env.SITE_DIR!, 'cifar10-smoke.html'), 'utf8');
    expect(board).toContain('Protocol: <strong class="protocol-label">smoke');
    expect(existsSync(join(env.SITE_DIR!, 'index.html'))).toBe(true);
    // the job's output that lets the deploy job publish the site
    expect(wf.jobs.nightly!.outputs!.site).toBe('${{ steps.site.outputs.built }}');
  });

  it('fails the job when the nightly step failed, after saving the history and the site', () => {
    const names = steps.map((s) => s.name ?? s.uses);
    const fail = steps.find((s) => s.if === "steps.nightly.outcome == 'failure'")!;
    expect(names.indexOf(fail.name)).toBeGreaterThan(names.indexOf('Save the teacher store and the nightly history'));
    expect(names.indexOf(fail.name)).toBeGreaterThan(names.indexOf('Upload the site for GitHub Pages'));
    expect(steps.find((s) => s.id === 'nightly')!['continue-on-error']).toBe(true);
    const r = spawnSync('bash', ['-e', '-c', fail.run!], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('::error::the nightly found a regression or a failed run');
    // and the nightly script itself exits non-zero on a failed suite (a suite file that does not load)
    const bad = spawnSync(process.execPath, [join(root, 'node_modules/.bin/tsx'), 'tools/nightly/nightly.ts', '--suite', 'benchmarks/no-such-suite.yaml', '--dir', join(work, 'bad')], { cwd: root, encoding: 'utf8' });
    expect(bad.status).not.toBe(0);
  });
});

it('ends on a wrong command line with one line naming the script', () => {
  for (const [args, line] of [
    [['--suit', 'benchmarks/smoke.yaml'], /^nightly: unknown option '--suit' \(usage: nightly --suite FILE /],
    [['--suite', 'benchmarks/smoke.yaml', 'extra'], /^nightly: unexpected argument 'extra' \(usage: nightly --suite FILE /],
    [[], /^nightly: --suite FILE is required \(e\.g\. benchmarks\/smoke\.yaml\)$/],
  ] as const) {
    const r = spawnSync(process.execPath, [join(root, 'node_modules/.bin/tsx'), 'tools/nightly/nightly.ts', ...args], { cwd: root, encoding: 'utf8' });
    expect(r.stderr.trim()).toMatch(line);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.status).toBe(2);
  }
});

// the validator is a WebAssembly build installed from npm: nothing is downloaded when it runs
it('runs the validator without a network binary download (its package ships the .wasm)', () => {
  const core = dirname(execFileSync(process.execPath, ['-e', "console.log(require.resolve('@action-validator/core'))"], { cwd: root, encoding: 'utf8' }).trim());
  expect(existsSync(join(core, 'action_validator_bg.wasm'))).toBe(true);
});
