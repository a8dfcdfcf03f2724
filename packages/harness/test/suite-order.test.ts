/**
 * A suite trains in its file's order: a free worker takes the ready job listed first, a teacher
 * counting as listed just before the first run that needs it. (No data here, so every job fails at
 * once; the order they start in is what is checked.)
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSuite } from '../src/suite/runner.js';
import { expandSuite, parseSuite } from '../src/suite/suite.js';

const SUITE = `name: order
datasets: [cifar10]
protocol: smoke
seeds: 1
methods: [vanilla, kd]
pairs:
  - { teacher: resnet20, student: resnet8 }
  - { teacher: resnet32, student: resnet14 }
`;

describe('suite order', () => {
  it('runs and teachers start in file order, each teacher just before its first run', async () => {
    const lines: string[] = [];
    const stream = { write: (s: string) => lines.push(...s.split('\n')), isTTY: false } as unknown as NodeJS.WriteStream;
    const empty = mkdtempSync(join(tmpdir(), 'kdb-order-'));
    const s = await runSuite({ plan: expandSuite(parseSuite(SUITE, 'order.yaml')), workers: 0, ctx: { dataDir: empty, resultsDir: join(empty, 'results'), backend: 'cpu' }, stream });
    expect(s.failed).toHaveLength(4);
    const started = lines.filter((l) => l.startsWith('start ')).map((l) => l.replace(/^start (.*?) \[.*$/, '$1'));
    expect(started).toEqual(['cifar10 vanilla resnet8 s1', 'teacher resnet20 cifar10 s0', 'cifar10 vanilla resnet14 s1', 'teacher resnet32 cifar10 s0']);
  });
});
