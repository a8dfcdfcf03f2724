/**
 * The scripts that make RESULTS.md's tables and time the engine: they type-check against the
 * packages they call (nothing else in CI runs them), a bad command line or input file is one line
 * naming it and a non-zero exit, and suite-rows never loses a row of the file it writes.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { appendResults, expandSuite, loadSuite, readResults } from '@kdbench/harness';

const benchmarks = fileURLToPath(new URL('..', import.meta.url));
const root = join(benchmarks, '..');
const committed = join(benchmarks, 'results/quick-survey-cifar10.arrow');

function script(file: string, ...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(benchmarks, file), ...args], { cwd: root, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.trim() };
}

describe('benchmark scripts', () => {
  it('type-check against the packages they import', () => {
    const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(benchmarks, 'tsconfig.json'), '--noEmit'], { encoding: 'utf8' });
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);
  });

  it('print a table of committed rows', () => {
    const r = script('scripts/survey-table.ts', committed, '--table', 'survey-t5');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('### Survey Table 5, CIFAR-10');
    expect(r.stdout).toMatch(/^\| 1 \| FSP \| ResNet26 → ResNet8 \| 87\.91 → 88\.70 \(\+0\.79\) \| +\| [\d.]+ ± [\d.]+ \(n=\d+\) \| fsp: /m);
  });

  it('gain-table pairs each method with the vanilla run of its own student (a board holds several)', () => {
    const r = script('scripts/gain-table.ts', join(benchmarks, 'results/quick-survey-cifar100.arrow'));
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n').filter((l) => /^\| [^|]+ \| \w[\w-]* \| 3 \| /.test(l)); // methods at 3 seeds, paired on all three
    expect(lines.length).toBeGreaterThan(10);
    for (const line of lines) {
      const cells = line.split(' | ');
      const gain = Number(cells[4]);
      const paired = cells[5]!.replace(/ \(std .*\)$/, '').split(', ').map(Number);
      expect(paired, line).toHaveLength(3);
      expect(Math.abs(paired.reduce((a, b) => a + b, 0) / 3 - gain), line).toBeLessThan(0.06); // printed to 0.1
    }
  });

  it('end on a bad command line or input with one line naming it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kdb-scripts-'));
    const damaged = join(dir, 'damaged.arrow');
    writeFileSync(damaged, 'not arrow');
    const cases: [string[], number, RegExp][] = [
      [['scripts/pair-table.ts', committed, '--results', 'x'], 2, /^pair-table: unknown option '--results' \(usage: pair-table \[RESULTS\.arrow \.\.\.\] --teacher T/],
      [['scripts/pair-table.ts', committed, '--teacher'], 2, /^pair-table: --teacher needs a value \(usage: /],
      [['scripts/gain-table.ts', join(dir, 'absent.arrow')], 4, /^gain-table: .*absent\.arrow: no such results file$/],
      [['scripts/survey-table.ts', damaged, '--table', 'survey-t5'], 4, /^survey-table: .*damaged\.arrow is truncated or damaged \(not a readable Arrow file\)$/],
      [['scripts/survey-table.ts', committed, '--table', 'survey-t7'], 2, /^survey-table: --table must be survey-t5 or survey-t6, got 'survey-t7'$/],
      [['scripts/family-table.ts', committed, '--view', 'nodes'], 2, /^family-table: --view must be cross-modal, data-free or graph, got 'nodes'$/],
      [['scripts/suite-cost.ts'], 2, /^suite-cost: give at least one suite file \(\.yaml\)$/],
      [['scripts/suite-cost.ts', join(dir, 'absent.yaml')], 2, /^suite-cost: .*absent\.yaml: cannot read: no such file/],
      [['scripts/suite-rows.ts', 'survey-cifar10.yaml'], 2, /^suite-rows: give one suite file, one results file and --out$/],
      [['engine/throughput.ts', '--model', 'resnet8'], 2, /^throughput: unknown option '--model' \(usage: throughput \[--models /],
      [['engine/native-ab.ts', '--rounds', '3', '5'], 2, /^native-ab: unexpected argument '5' \(usage: native-ab /],
    ];
    for (const [args, code, line] of cases) {
      const r = script(args[0]!, ...args.slice(1));
      expect(r.stderr, args.join(' ')).toMatch(line);
      expect(r.stderr.split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.code, args.join(' ')).toBe(code);
      expect(r.stdout, args.join(' ')).toBe('');
    }
    // --debug adds the stack, as in the CLI
    const debug = script('scripts/gain-table.ts', join(dir, 'absent.arrow'), '--debug');
    expect(debug.stderr.split('\n')[0]).toMatch(/^gain-table: .*absent\.arrow: no such results file$/);
    expect(debug.stderr).toMatch(/^\s+at .*script\.ts/m);
    expect(debug.code).toBe(4);
  });

  it('end quietly when the reader closes stdout before the table is printed (`| head`)', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(benchmarks, 'scripts/survey-table.ts'), committed, '--table', 'survey-t5'], { cwd: root });
    child.stdout.destroy(); // the only reader of the pipe is gone before the script has started
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((done) => child.on('close', done));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  it('suite-rows adds a suite\'s rows and keeps every row already in its output', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kdb-suite-rows-'));
    const rows = readResults(committed).slice(0, 5);
    const results = join(dir, 'results.arrow');
    appendResults(results, rows);
    const out = join(dir, 'out.arrow');
    const rerun = { ...rows[0]!, date: '2099-01-01T00:00:00.000Z', last_top1: 99 }; // recorded after the results file's row
    const foreign = { ...rows[1]!, run_id: 'not-a-run-of-the-suite' };
    const older = { ...rows[2]!, date: '2000-01-01T00:00:00.000Z', last_top1: -1 }; // recorded before the results file's row
    appendResults(out, [rerun, foreign, older]);

    const r = script('scripts/suite-rows.ts', 'benchmarks/survey-cifar10.yaml', results, '--out', out);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const runs = expandSuite(loadSuite(join(benchmarks, 'survey-cifar10.yaml'))).runs.length;
    expect(r.stdout.split('\n')[0]).toBe(`5 of ${runs} runs of survey-cifar10 in ${out} (4 written from ${results}); it also holds 1 rows that are not runs of the suite (kept)`);
    // the runs neither file holds: one line per pair, method and settings, with their seeds
    expect(r.stdout.split('\n')[1]).toBe(`not recorded: ${runs - 5} runs`);
    expect(r.stdout).toMatch(/^  cifar10 dml resnet32 \[peer=mobilenetv1\]: seeds 1, 2, 3$/m);
    expect(r.stdout).toMatch(/^  cifar10 tofd resnet152->mobilenetv2 \[widthFactor=0\.25\]: seeds 1, 2, 3$/m);
    const written = new Map(readResults(out).map((row) => [row.run_id, row]));
    expect([...written.keys()].sort()).toEqual([...rows.map((row) => row.run_id), foreign.run_id].sort());
    expect(written.get(rows[0]!.run_id)!.last_top1).toBe(99); // the later row stays
    expect(written.get(rows[2]!.run_id)!.last_top1).toBe(rows[2]!.last_top1); // the earlier row is replaced

    // the output being the results file itself loses nothing
    copyFileSync(out, results);
    const same = script('scripts/suite-rows.ts', 'benchmarks/survey-cifar10.yaml', results, '--out', results);
    expect(same.code).toBe(0);
    expect(same.stdout).toContain(`(0 written from ${results})`); // nothing newer: the file is not rewritten
    expect(readResults(results)).toHaveLength(6);

    // a damaged output is an error, and stays as it was
    writeFileSync(out, 'damaged');
    const bad = script('scripts/suite-rows.ts', 'benchmarks/survey-cifar10.yaml', results, '--out', out);
    expect(bad.stderr).toMatch(/^suite-rows: .*out\.arrow is truncated or damaged/);
    expect(bad.code).toBe(4);
    expect(readFileSync(out, 'utf8')).toBe('damaged');
  });
});
