import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { getProtocol } from '@kdbench/core';
import { readResults } from '../src/results/arrow-store.js';
import { mergeResults } from '../src/results-merge.js';
import { resultsFile } from '../src/run.js';
import { runSuite } from '../src/suite/runner.js';
import { expandSuite, parseSuite } from '../src/suite/suite.js';
import { dataDir } from './paths.js';

const cli = fileURLToPath(new URL('../bin/kdbench.js', import.meta.url));
const smokeEpochs = getProtocol('smoke').epochs;
const quietStream = { write: () => true, isTTY: false } as unknown as NodeJS.WriteStream;

const TINY = `name: tiny
datasets: [cifar10]
protocol: smoke
seeds: [1, 2]
methods: [vanilla, kd]
pairs:
  - teacher: resnet8
    student: resnet8
`;

describe('suite: shards on two machines merge into the unsharded result (smoke, wasm)', () => {
  it('shard 0/2 + shard 1/2, merged, equals one unsharded run', async () => {
    const suite = parseSuite(TINY, 'tiny.yaml');
    const run = async (shard?: { index: number; count: number }) => {
      const dir = mkdtempSync(join(tmpdir(), 'kdb-shard-'));
      const plan = expandSuite(suite, { shard });
      const summary = await runSuite({ plan, workers: 0, ctx: { dataDir, resultsDir: dir, backend: 'wasm' }, stream: quietStream });
      expect(summary.failed).toEqual([]);
      return { dir, plan };
    };
    const whole = await run();
    // every job's log follows its training: a line per epoch with its losses and accuracy
    const kdRun = whole.plan.runs.find((r) => r.request.method === 'kd')!;
    const kdLog = readFileSync(join(whole.dir, 'logs', `${kdRun.id}.log`), 'utf8');
    expect(kdLog).toMatch(/ kd resnet8->resnet8 s\d: main epoch 1\/\d+ \| ce [\d.]+ kd [\d.]+ total [\d.]+ \| top1 [\d.]+ top5 [\d.]+ \| [\d.]+ s\n/);
    expect(kdLog.match(/: main epoch \d+\//g)).toHaveLength(smokeEpochs);
    const logs = readdirSync(join(whole.dir, 'logs')).map((f) => readFileSync(join(whole.dir, 'logs', f), 'utf8'));
    const teacherLog = logs.find((l) => / teacher resnet8 cifar10 s0 \(pid \d+\)\n/.test(l))!;
    expect(teacherLog).toMatch(/ teacher resnet8 s0: main epoch 1\/\d+ \| ce [\d.]+ total [\d.]+ \| top1 /);
    const a = await run({ index: 0, count: 2 });
    const b = await run({ index: 1, count: 2 });
    expect(a.plan.runs.length).toBeGreaterThan(0);
    expect(b.plan.runs.length).toBeGreaterThan(0);
    expect(a.plan.runs.length + b.plan.runs.length).toBe(whole.plan.runs.length);

    const merged = join(mkdtempSync(join(tmpdir(), 'kdb-merged-')), 'merged.arrow');
    mergeResults([resultsFile(a.dir), resultsFile(b.dir)], merged);
    const key = (r: ReturnType<typeof readResults>[number]) => {
      const d = JSON.parse(r.details);
      return [r.run_id, r.method, r.seed, r.teacher_hash, r.best_top1, r.last_top1, r.last_top5,
        JSON.stringify(d.history.map((h: { losses: unknown; eval: unknown }) => [h.losses, h.eval]))];
    };
    const sort = (rows: ReturnType<typeof readResults>) => rows.map(key).sort((x, y) => String(x[0]).localeCompare(String(y[0])));
    expect(sort(readResults(merged))).toEqual(sort(readResults(resultsFile(whole.dir))));
  });
});

describe('suite: a killed worker loses no finished result, and a rerun completes the suite', () => {
  it('3 runs, 2 workers: kill the worker of an unfinished run mid-run, rerun: all 3 rows exactly once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kdb-kill-'));
    const file = join(dir, 'kill.yaml');
    writeFileSync(file, `name: kill
datasets: [cifar10]
protocol: smoke
seeds: 1
set: { epochs: 4 }
methods: [vanilla, kd, dkd]
pairs:
  - { teacher: resnet8, student: resnet8 }
`);
    const args = ['suite', 'run', file, '--workers', '2', '--results', dir, '--data-dir', dataDir, '--backend', 'wasm'];
    const started = new Map<string, number>();
    const done = new Set<string>();
    let killed: string | undefined;
    const first = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      let poll: NodeJS.Timeout | undefined;
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        for (const m of stderr.matchAll(/^start .* \[run (\w+)\] on pid (\d+)$/gm)) started.set(m[1]!, Number(m[2]));
        for (const m of stderr.matchAll(/^done {2}.* \[run (\w+)\]$/gm)) done.add(m[1]!);
        if (done.size >= 1 && !poll && !killed) {
          poll = setInterval(() => {
            for (const [id, pid] of started) {
              if (!done.has(id) && existsSync(join(dir, 'runs', id, 'checkpoint.kdbt'))) {
                killed = id;
                process.kill(pid, 'SIGKILL');
                clearInterval(poll);
                return;
              }
            }
          }, 10);
        }
      });
      child.stdout.resume();
      child.on('exit', (code) => {
        if (poll) clearInterval(poll);
        resolve({ code, stderr });
      });
    });
    expect(killed, first.stderr).toBeDefined();
    expect(first.code).toBe(1);
    expect(first.stderr).toMatch(new RegExp(`FAILED .*\\[run ${killed}\\]: worker \\d \\(pid \\d+\\) exited with SIGKILL`));
    const afterKill = readResults(resultsFile(dir));
    expect(afterKill).toHaveLength(2);
    expect(afterKill.map((r) => r.run_id)).not.toContain(killed);

    const second = await new Promise<number | null>((resolve) => {
      spawn(process.execPath, [cli, ...args], { stdio: 'ignore' }).on('exit', resolve);
    });
    expect(second).toBe(0);
    const rows = readResults(resultsFile(dir));
    expect(rows.map((r) => r.run_id).sort()).toEqual([...new Set(rows.map((r) => r.run_id))].sort());
    expect(rows).toHaveLength(3);
    const resumed = rows.find((r) => r.run_id === killed)!;
    expect(JSON.parse(resumed.details).resumedFromEpoch).toBeGreaterThanOrEqual(1);
  });
});
