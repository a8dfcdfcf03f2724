/**
 * The suite summary counts runs and teachers apart (a failed teacher is not a failed run, the runs
 * it blocks are), and never points at a log file that does not exist.
 */
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSuite } from '../src/suite/runner.js';
import { expandSuite, parseSuite } from '../src/suite/suite.js';

const quietStream = { write: () => true, isTTY: false } as unknown as NodeJS.WriteStream;
const plan = () => expandSuite(parseSuite('name: s\ndatasets: [cifar10]\nprotocol: smoke\nseeds: 1\nmethods: [vanilla, kd]\npairs:\n  - { teacher: resnet20, student: resnet8 }\n', 's.yaml'));

describe('suite summary', () => {
  it('a teacher that cannot be trained: 1 teacher failed, its run and the data-less run failed, counts add up', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'kdb-nodata-'));
    const results = join(empty, 'results');
    const s = await runSuite({ plan: plan(), workers: 0, ctx: { dataDir: empty, resultsDir: results, backend: 'cpu' }, stream: quietStream });
    expect(s.total).toBe(2);
    expect(s.alreadyRecorded + s.ran + s.failed.length).toBe(s.total);
    expect(s.teachers).toBe(1);
    expect(s.teachersFailed.map((f) => f.label)).toEqual(['teacher resnet20 cifar10 s0']);
    expect(s.failed.map((f) => f.label).sort()).toEqual(['cifar10 kd resnet20->resnet8 s1', 'cifar10 vanilla resnet8 s1']);
    const kd = s.failed.find((f) => f.label.includes(' kd '))!;
    expect(kd.error).toBe('its teacher (resnet20) could not be trained');
    expect(kd.log).toBe(''); // it never started
    for (const f of [...s.teachersFailed, ...s.failed]) if (f.log) expect(existsSync(f.log)).toBe(true);
    expect(s.teachersFailed[0]!.log).toBe(join(results, 'logs', `${s.teachersFailed[0]!.id}.log`));
  });

  it('when the logs folder cannot be made, no failure points at a log', async () => {
    const results = mkdtempSync(join(tmpdir(), 'kdb-nologs-'));
    writeFileSync(join(results, 'logs'), 'a file where the logs folder should be');
    mkdirSync(join(results, 'runs'));
    const s = await runSuite({ plan: plan(), workers: 0, ctx: { dataDir: results, resultsDir: results, backend: 'cpu' }, stream: quietStream });
    expect(s.teachersFailed).toHaveLength(1);
    expect(s.failed).toHaveLength(2);
    expect([...s.teachersFailed, ...s.failed].map((f) => f.log)).toEqual(['', '', '']);
  });
});
