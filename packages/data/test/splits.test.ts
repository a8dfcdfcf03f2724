/** makeRunSplits: test vs holdout evaluation, class balance, disjointness, seeding, errors. */
import { beforeAll, describe, expect, it } from 'vitest';
import { classCounts, DataError, loadCifar, makeRunSplits, type CifarData, type RawSplit } from '../src/index.js';
import { DATA_DIR } from './helpers/paths.js';

let c10: CifarData;
let c100: CifarData;
beforeAll(async () => {
  [c10, c100] = await Promise.all([loadCifar('cifar10', { dataDir: DATA_DIR }), loadCifar('cifar100', { dataDir: DATA_DIR })]);
});

const idSet = (s: RawSplit): Set<number> => new Set(s.ids);

/** Records of `sub` equal the records of `full` with the same ids. */
function sameRecords(sub: RawSplit, full: RawSplit): boolean {
  const pos = new Map<number, number>();
  full.ids.forEach((id, i) => pos.set(id, i));
  for (let k = 0; k < sub.n; k++) {
    const i = pos.get(sub.ids[k]!)!;
    if (full.labels[i] !== sub.labels[k]) return false;
    const a = Buffer.from(sub.images.buffer, sub.images.byteOffset + k * 3072, 3072);
    const b = Buffer.from(full.images.buffer, full.images.byteOffset + i * 3072, 3072);
    if (!a.equals(b)) return false;
  }
  return true;
}

describe('makeRunSplits with a test file (cifar10)', () => {
  it('evaluates on the full test set by default', () => {
    const s = makeRunSplits(c10, { seed: 0 });
    expect(s.evalSplit).toBe('test');
    expect(s.evaluation).toBe(c10.test);
    expect(s.train).toBe(c10.train);
    expect(s.description).toBe('test (10000)');
  });

  it('evalPerClass subsamples the test set class-balanced and seeded', () => {
    const a = makeRunSplits(c10, { seed: 3, evalPerClass: 50 });
    const b = makeRunSplits(c10, { seed: 3, evalPerClass: 50 });
    const c = makeRunSplits(c10, { seed: 4, evalPerClass: 50 });
    expect(a.evaluation.n).toBe(500);
    expect(classCounts(a.evaluation, 10)).toEqual(new Array(10).fill(50));
    expect(Array.from(a.evaluation.ids)).toEqual(Array.from(b.evaluation.ids));
    expect(Array.from(a.evaluation.ids)).not.toEqual(Array.from(c.evaluation.ids));
    expect(sameRecords(a.evaluation, c10.test!)).toBe(true);
    expect(a.description).toContain('50/class');
  });

  it('trainPerClass subsets training class-balanced', () => {
    const s = makeRunSplits(c10, { seed: 1, trainPerClass: 30 });
    expect(classCounts(s.train, 10)).toEqual(new Array(10).fill(30));
    expect(sameRecords(s.train, c10.train)).toBe(true);
    const ids = Array.from(s.train.ids);
    expect(ids).toEqual([...ids].sort((x, y) => x - y)); // file order kept
  });

  it('evalOn: holdout forces a holdout even with a test file', () => {
    const s = makeRunSplits(c10, { seed: 0, evalOn: 'holdout', holdoutPerClass: 5 });
    expect(s.evalSplit).toBe('holdout');
    expect(s.evaluation.n).toBe(50);
    expect(s.train.n).toBe(c10.train.n - 50);
  });
});

describe('makeRunSplits without a test file (cifar100)', () => {
  it('default holdout = 10% of the smallest class, class-balanced, disjoint from train', () => {
    const s = makeRunSplits(c100, { seed: 0 });
    expect(s.evalSplit).toBe('holdout');
    expect(s.evaluation.n).toBe(1000);
    expect(classCounts(s.evaluation, 100)).toEqual(new Array(100).fill(10));
    expect(classCounts(s.train, 100)).toEqual(new Array(100).fill(90));
    const trainIds = idSet(s.train);
    expect([...s.evaluation.ids].some((id) => trainIds.has(id))).toBe(false);
    expect(trainIds.size + s.evaluation.n).toBe(c100.train.n);
    expect(sameRecords(s.evaluation, c100.train)).toBe(true);
    expect(sameRecords(s.train, c100.train)).toBe(true);
    expect(Array.from(s.evaluation.coarseLabels!.subarray(0, 3))).toEqual(
      Array.from(s.evaluation.ids.subarray(0, 3), (id) => c100.train.coarseLabels![id]!),
    );
    expect(s.description).toBe('holdout 10/class of train (1000), seed 0 (no test file)');
  });

  it('is deterministic in the seed', () => {
    const a = makeRunSplits(c100, { seed: 7, holdoutPerClass: 20 });
    const b = makeRunSplits(c100, { seed: 7, holdoutPerClass: 20 });
    const c = makeRunSplits(c100, { seed: 8, holdoutPerClass: 20 });
    expect(Array.from(a.evaluation.ids)).toEqual(Array.from(b.evaluation.ids));
    expect(Array.from(a.train.ids)).toEqual(Array.from(b.train.ids));
    expect(Array.from(a.evaluation.ids)).not.toEqual(Array.from(c.evaluation.ids));
    expect(classCounts(a.evaluation, 100)).toEqual(new Array(100).fill(20));
  });

  it('holdout plus trainPerClass', () => {
    const s = makeRunSplits(c100, { seed: 2, holdoutPerClass: 20, trainPerClass: 50 });
    expect(classCounts(s.train, 100)).toEqual(new Array(100).fill(50));
    const evalIds = idSet(s.evaluation);
    expect([...s.train.ids].some((id) => evalIds.has(id))).toBe(false);
    // the holdout does not depend on trainPerClass
    const t = makeRunSplits(c100, { seed: 2, holdoutPerClass: 20 });
    expect(Array.from(s.evaluation.ids)).toEqual(Array.from(t.evaluation.ids));
  });

  it('errors when a class has too few records', () => {
    expect(() => makeRunSplits(c100, { seed: 0, holdoutPerClass: 60, trainPerClass: 50 })).toThrow(DataError);
    expect(() => makeRunSplits(c100, { seed: 0, holdoutPerClass: 100 })).toThrow(/needs 101 records per class/);
    expect(() => makeRunSplits(c10, { seed: 0, evalPerClass: 1001 })).toThrow(/evalPerClass 1001/);
    expect(() => makeRunSplits(c10, { seed: 0, trainPerClass: 5000 })).toThrow(/class\(es\) have fewer/);
    expect(() => makeRunSplits(c100, { seed: 0, evalOn: 'test' })).toThrow(/no test file/);
    expect(() => makeRunSplits(c100, { seed: 0, holdoutPerClass: 0 })).toThrow(/positive integer/);
  });
});
