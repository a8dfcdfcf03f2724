/**
 * The suite's cost estimate (suite/cost.ts) and the progress line that weighs jobs by it: a suite
 * listing cheap pairs first must not promise an ETA that counts its heavy runs as cheap ones.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { getProtocol } from '@kdbench/core';
import { initEngine, tf } from '@kdbench/engine';
import { CostCalibration, DEFAULT_SECONDS_PER_UNIT, MacCounter, estimateJobs, passesOf, runCost, runNets, steadyTrainSeconds, teacherCost, trainImages } from '../src/suite/cost.js';
import { fakeRow } from './fixtures/rows.js';
import { SuiteProgress } from '../src/suite/progress.js';

const quietStream = { write: () => true, isTTY: false } as unknown as NodeJS.WriteStream;

describe('suite cost estimate', () => {
  beforeAll(async () => {
    await initEngine({ backend: 'cpu' });
  });
  const noData = mkdtempSync(join(tmpdir(), 'kdb-cost-'));
  const macs = new MacCounter();

  it('training images: the protocol share of the local split, after the holdout when there is no test file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kdb-cost-data-'));
    mkdirSync(join(dir, 'cifar-100-binary'));
    writeFileSync(join(dir, 'cifar-100-binary', 'train.bin'), Buffer.alloc(3074 * 10_000)); // 100 per class, no test file
    expect(trainImages('cifar100', { holdoutPerClass: 20 }, dir)).toBe(100 * 80);
    expect(trainImages('cifar100', { trainPerClass: 50, holdoutPerClass: 20 }, dir)).toBe(100 * 50);
    // no local files: the official archive's 50,000 images, no holdout
    expect(trainImages('cifar10', { trainPerClass: 400, holdoutPerClass: 20 }, noData)).toBe(4000);
    expect(trainImages('cifar10', { holdoutPerClass: 20 }, noData)).toBe(50_000);
  });

  it('passes: 3 x the student, plus one forward of the teacher; online peers train both networks', () => {
    const nets = { student: 10, teacher: 40, partner: 20 };
    expect(passesOf('vanilla', nets, {}, false)).toBe(30);
    expect(passesOf('kd', nets, {}, true)).toBe(70);
    expect(passesOf('dml', nets, {}, false)).toBe(90);
    expect(passesOf('pcl', nets, { branches: '2' }, false)).toBe(80);
  });

  it('a run counts every network it uses: the multi-teacher ensemble, the online partner', () => {
    const base = { dataset: 'cifar10', student: 'resnet8', protocol: 'quick' };
    const r56 = macs.mmacs('resnet56', 0.5, 10);
    expect(r56).toBeGreaterThan(macs.mmacs('resnet8', 0.5, 10));
    expect(runNets({ ...base, method: 'kd', teacher: 'resnet56' }, macs).teacher).toBeCloseTo(r56, 6);
    expect(runNets({ ...base, method: 'aekd', teacher: 'resnet56' }, macs).teacher).toBeCloseTo(3 * r56, 6);
    expect(runNets({ ...base, method: 'dml', hp: { peer: 'resnet56' } }, macs).partner).toBeCloseTo(r56, 6);
    expect(runNets({ ...base, method: 'vanilla' }, macs)).toEqual({ student: macs.mmacs('resnet8', 0.5, 10), teacher: 0, partner: 0 });
  });

  it('costs scale with the network, the epochs and the images', () => {
    const run = { dataset: 'cifar10', method: 'vanilla', student: 'resnet8', protocol: 'quick' };
    const small = runCost(run, noData, macs);
    expect(runCost({ ...run, student: 'resnet110' }, noData, macs) / small).toBeCloseTo(macs.mmacs('resnet110', 0.5, 10) / macs.mmacs('resnet8', 0.5, 10), 6);
    expect(runCost({ ...run, protocolOverrides: { epochs: 24 } }, noData, macs) / small).toBeCloseTo(24 / 12, 6);
    expect(runCost({ ...run, protocolOverrides: { trainPerClass: 200 } }, noData, macs) / small).toBeCloseTo(0.5, 6);
    const teacher = teacherCost({ dataset: 'cifar10', teacher: 'resnet8', protocol: 'quick' }, noData, macs);
    const quick = getProtocol('quick');
    expect(teacher / small).toBeCloseTo(quick.teacherEpochs / quick.epochs, 6); // a teacher trains alone, 3 x its MACs
  });
});

describe('cost calibration on recorded rows', () => {
  beforeAll(async () => {
    await initEngine({ backend: 'cpu' });
  });
  const noData = mkdtempSync(join(tmpdir(), 'kdb-cal-'));
  const macs = new MacCounter();
  const quick = JSON.stringify({ protocol: getProtocol('quick'), trainImages: 4000 });
  /** A row of `method` on resnet20 -> resnet8 that took `ratio` seconds per unit of its estimated cost. */
  const row = (id: string, method: string, ratio: number, patch: Parameters<typeof fakeRow>[1] = {}) => {
    const r = fakeRow(id, { method, protocol: 'quick', epochs: 12, details: quick, ...(method === 'vanilla' ? { teacher: '' } : {}), ...patch });
    const units = runCost({ dataset: r.dataset, method, student: r.student, ...(r.teacher ? { teacher: r.teacher } : {}), protocol: 'quick' }, noData, macs);
    return { ...r, train_seconds: ratio * units };
  };

  it('a job is timed by the rows most like it: same method and pair, then method and student, student, method, all', () => {
    const T = (t: number) => ({ hyperparameters: JSON.stringify({ T: t }) }); // three configurations of kd on one pair
    const rows = [row('a', 'kd', 1, T(1)), row('b', 'kd', 3, T(2)), row('c', 'kd', 2, T(3)), row('d', 'dafl', 40), row('e', 'vanilla', 5, { student: 'mobilenetv2' }), row('f', 'vanilla', 1)];
    const cal = new CostCalibration(rows, macs);
    expect(cal.factor({ method: 'kd', teacher: 'resnet20', student: 'resnet8', dataset: 'cifar10' })).toBeCloseTo(2, 9); // median of 1, 3, 2
    expect(cal.factor({ method: 'dafl', teacher: 'resnet20', student: 'resnet8', dataset: 'cifar100' })).toBeCloseTo(40, 9); // same method and student, other dataset
    expect(cal.factor({ method: 'kd', teacher: 'resnet56', student: 'mobilenetv2', dataset: 'cifar10' })).toBeCloseTo(5, 9); // the student's rows
    expect(cal.factor({ method: 'dafl', student: 'resnet110', dataset: 'cifar10' })).toBeCloseTo(40, 9); // the method's rows
    expect(cal.factor({ method: 'ft', student: 'resnet110', dataset: 'cifar10' })).toBeCloseTo(3, 9); // all rows: 1 1 2 3 5 40, the upper median
    const spread = cal.spread()!;
    expect(spread.rows).toBe(6);
    expect(spread.low).toBeCloseTo(1 / 3, 9);
    expect(spread.high).toBeCloseTo(40 / 3, 9);
    const run = { dataset: 'cifar10', method: 'dafl', teacher: 'resnet20', student: 'resnet8', protocol: 'quick' };
    expect(cal.runSeconds(run, noData, macs)).toBeCloseTo(40 * runCost(run, noData, macs), 6);
  });

  it('for the same network, rows at the job\'s width come first: a unit of MACs costs more in thin layers', () => {
    const quarter = JSON.stringify({ protocol: { ...getProtocol('quick'), widthFactor: 0.25 }, trainImages: 4000 });
    const thinRow = (id: string, student: string, ratio: number) => {
      const run = { dataset: 'cifar10', method: 'vanilla', student, protocol: 'quick', protocolOverrides: { widthFactor: 0.25 } };
      return { ...fakeRow(id, { method: 'vanilla', teacher: '', student, protocol: 'quick', epochs: 12, details: quarter }), train_seconds: ratio * runCost(run, noData, macs) };
    };
    const cal = new CostCalibration([row('a', 'kd', 4), thinRow('t', 'resnet8', 10), thinRow('u', 'resnet110', 30)], macs);
    const kd = { method: 'kd', teacher: 'resnet20', student: 'resnet8', dataset: 'cifar10' };
    expect(cal.factor({ ...kd, protocol: 'quick' })).toBeCloseTo(4, 9); // the same configuration at x0.5
    expect(cal.factor({ ...kd, protocol: 'quick', protocolOverrides: { widthFactor: 0.25 } })).toBeCloseTo(10, 9); // the student's x0.25 row
    expect(cal.factor({ ...kd, protocol: 'quick', protocolOverrides: { widthFactor: 1 } })).toBeCloseTo(4, 9); // no row at x1: the same pair at any width
    expect(cal.factor(kd)).toBeCloseTo(4, 9); // no protocol given: any width
    // another network's thin rows say nothing of this one: its method's rows at any width (kd: 4)
    expect(cal.factor({ method: 'kd', teacher: 'resnet152', student: 'resnet50', dataset: 'cifar10', protocol: 'quick', protocolOverrides: { widthFactor: 0.25 } })).toBeCloseTo(4, 9);
    const run = { dataset: 'cifar10', method: 'vanilla', student: 'resnet110', protocol: 'quick', protocolOverrides: { widthFactor: 0.25 } };
    expect(cal.runSeconds(run, noData, macs)).toBeCloseTo(30 * runCost(run, noData, macs), 6);
  });

  it('a row is timed at its steady speed: epochs slowed by other work on the machine do not count', () => {
    const history = (stage: string, seconds: number[]) => seconds.map((s, i) => ({ stage, epoch: i + 1, lr: 0.1, losses: {}, seconds: s }));
    const slowStart = [188, 155, 152, 489, 381, 34, 34, 34, 34, 34, 34, 34]; // a recorded KD row: 5 epochs under contention
    const sum = slowStart.reduce((a, b) => a + b, 0);
    // the main stage's median epoch (34 s) x 12 epochs, in train time (train_seconds / the epochs' wall time)
    expect(steadyTrainSeconds({ train_seconds: 1000, details: JSON.stringify({ history: history('main', slowStart) }) })).toBeCloseTo((1000 * 34 * 12) / sum, 9);
    // each stage at its own median: a 2-epoch warm-up at 10 s and 3 main epochs around 20 s, one of them slowed
    const staged = [...history('warmup', [10, 12]), ...history('main', [20, 90, 22])];
    expect(steadyTrainSeconds({ train_seconds: 154, details: JSON.stringify({ history: staged }) })).toBeCloseTo(154 * ((11 * 2 + 22 * 3) / 154), 9);
    expect(steadyTrainSeconds({ train_seconds: 77, details: '{}' })).toBe(77); // no history: as recorded
    // in the calibration: a contended row weighs as what its steady epochs cost
    const slow = { ...row('a', 'kd', 2), details: JSON.stringify({ protocol: getProtocol('quick'), trainImages: 4000, history: history('main', slowStart) }) };
    expect(new CostCalibration([slow], macs).factor({ method: 'kd', teacher: 'resnet20', student: 'resnet8', dataset: 'cifar10' })).toBeCloseTo((2 * 34 * 12) / sum, 9);
  });

  it('a configuration is timed by its fastest seed: the seeds do the same work, a slower one was slowed by something else', () => {
    const seeds = [row('a', 'kd', 9, { seed: 1 }), row('b', 'kd', 2, { seed: 2 }), row('c', 'kd', 7, { seed: 3 })];
    const cal = new CostCalibration([...seeds, row('d', 'kd', 4, { hyperparameters: JSON.stringify({ T: 2 }) })], macs);
    expect(cal.spread()!.rows).toBe(2); // two configurations: kd at its defaults, kd with T = 2
    expect(cal.factor({ method: 'kd', teacher: 'resnet20', student: 'resnet8', dataset: 'cifar10' })).toBeCloseTo(4, 9); // the upper median of 2 (fastest seed) and 4
  });

  it('no rows: the default factor; rows that cannot be costed, or do not record their training-set size, are left out', () => {
    expect(new CostCalibration([], macs, 7).factor({ method: 'kd', student: 'resnet8', dataset: 'cifar10' })).toBe(7);
    const older = { ...row('d', 'kd', 1), details: JSON.stringify({ protocol: getProtocol('quick') }) }; // no trainImages: an older row
    const cal = new CostCalibration([row('a', 'kd', 3), { ...row('b', 'kd', 1), student: 'no_such_net' }, { ...row('c', 'kd', 1), train_seconds: 0 }, older], macs, 7);
    expect(cal.spread()).toEqual({ rows: 1, low: 1, high: 1 });
  });
});

describe('estimateJobs: the pending jobs of a suite in seconds', () => {
  beforeAll(async () => {
    await initEngine({ backend: 'cpu' });
  });
  it('runs and teachers at the default speed without rows; a job that cannot be costed gets the mean of the others', () => {
    const noData = mkdtempSync(join(tmpdir(), 'kdb-est-'));
    const macs = new MacCounter();
    const run = { dataset: 'cifar10', method: 'vanilla', student: 'resnet8', protocol: 'quick' };
    const teacher = { dataset: 'cifar10', teacher: 'resnet20', protocol: 'quick' };
    const tensors = tf.memory().numTensors;
    const e = estimateJobs([{ id: 'a', request: run }, { id: 'bad', request: { ...run, student: 'no_such_net' } }], [{ key: 't', request: teacher }], [], noData);
    expect(tf.memory().numTensors).toBe(tensors); // counting builds placeholders and frees them
    expect(e.calibratedOn).toBe(0);
    const a = DEFAULT_SECONDS_PER_UNIT * runCost(run, noData, macs);
    const t = DEFAULT_SECONDS_PER_UNIT * teacherCost(teacher, noData, macs);
    expect(e.runs.get('a')).toBeCloseTo(a, 9);
    expect(e.teachers.get('t')).toBeCloseTo(t, 9);
    expect(e.runs.get('bad')).toBeCloseTo((a + t) / 2, 9);
  });
});

describe('suite progress: the ETA comes from the rate of the work done here, weighed by cost', () => {
  const epoch = (doneSteps: number, totalSteps = 10) => ({ type: 'epoch' as const, record: {} as never, epochs: 2, doneSteps, totalSteps, elapsed: 1 });
  const step = (epoch: number, step: number) => ({ type: 'step' as const, stage: 'main', epoch, epochs: 2, step, steps: 5 });

  it('a cheap job done is a small share of the work; a heavy one half done is most of it', () => {
    const p = new SuiteProgress('s', 2, 0, 0, quietStream, 30_000, new Map([['cheap', 1], ['heavy', 9]]));
    p.start('cheap', 'cheap');
    p.start('heavy', 'heavy');
    p.event('cheap', step(0, 0));
    p.event('heavy', step(0, 0));
    p.finish('cheap', 'run', true, 'done cheap');
    expect(p.workDone()).toBeCloseTo(0.1, 9);
    p.event('heavy', epoch(5));
    expect(p.workDone()).toBeCloseTo(0.55, 9);
    p.finish('heavy', 'run', false, 'failed heavy'); // what a failed job left undone leaves the total
    expect(p.workDone()).toBe(1);
    p.close();
  });

  it('a teacher found in the store (no training) leaves the total instead of counting as work done', () => {
    const p = new SuiteProgress('s', 1, 0, 1, quietStream, 30_000, new Map([['teacher-t', 30], ['run', 10]]));
    p.start('teacher-t', 'teacher');
    p.finish('teacher-t', 'teacher', true, 'done teacher (stored)');
    expect(p.workDone()).toBe(0);
    p.start('run', 'run');
    p.event('run', step(0, 0));
    p.event('run', epoch(4));
    expect(p.workDone()).toBeCloseTo(0.4, 9); // 4 of the run's 10 units; the teacher's 30 are not this process's work
    p.close();
  });

  it('a run resumed from a checkpoint counts only the training done after it', () => {
    const p = new SuiteProgress('s', 2, 0, 0, quietStream, 30_000, new Map([['resumed', 10], ['fresh', 10]]));
    p.start('resumed', 'resumed');
    p.event('resumed', { type: 'resume', stage: 'main', epoch: 1 });
    p.event('resumed', step(1, 0)); // half its steps were done before this process
    p.event('resumed', epoch(10));
    expect(p.workDone()).toBeCloseTo((10 * (1 - 0.4995)) / (20 - 10 * 0.4995), 9);
    p.finish('resumed', 'run', true, 'done resumed');
    expect(p.workDone()).toBeCloseTo((10 * (1 - 0.4995)) / (20 - 10 * 0.4995), 9);
    p.start('fresh', 'fresh');
    p.event('fresh', epoch(5)); // first seen at the end of its first epoch (of 2): trained here from 0
    expect(p.workDone()).toBeCloseTo((10 * (1 - 0.4995) + 5) / (20 - 10 * 0.4995), 9);
    p.close();
  });

  it('a plain (logged) status line says how far each running job is', () => {
    const lines: string[] = [];
    const log = { write: (t: string) => lines.push(t), isTTY: false } as unknown as NodeJS.WriteStream;
    const p = new SuiteProgress('s', 2, 0, 0, log, -1); // -1: a line on every event
    p.start('a', 'cifar100 dml resnet32 [peer=mobilenetv1] s1');
    p.event('a', step(0, 0));
    p.event('a', epoch(4));
    expect(lines.at(-1)).toMatch(/ \| 1 running \| .* \| cifar100 dml resnet32 \[peer=mobilenetv1\] s1 40%\n$/);
    p.close();
  });

  it('without weights, jobs count alike (runs and teachers)', () => {
    const p = new SuiteProgress('s', 3, 1, 1, quietStream);
    p.start('teacher-x', 'teacher');
    p.event('teacher-x', step(0, 0));
    p.event('teacher-x', epoch(10));
    p.finish('teacher-x', 'teacher', true, 'done teacher');
    expect(p.workDone()).toBeCloseTo(1 / 3, 9);
    expect(p.status()).toMatch(/1\/3 runs done \(1 already recorded\) \| 0 running \| 0 runs failed \| teachers 1\/1 \| elapsed \S+ \| ETA \S+/);
    p.close();
  });
});
