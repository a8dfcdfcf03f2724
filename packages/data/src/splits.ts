/**
 * makeRunSplits: the train / evaluation records of a run. With a test file, evaluation is the
 * test set (optionally a seeded class-balanced subsample); without one, a seeded class-balanced
 * holdout taken out of the training records. trainPerClass shrinks training class-balanced.
 * Every choice is a pure function of the seed; selected records keep their file order.
 */
import { Rng } from '@kdbench/engine';
import { DataError } from './errors.js';
import { indicesByClass, subsetSplit } from './subset.js';
import type { CifarData, RunSplits } from './types.js';

export interface SplitOptions {
  seed: number;
  /** Holdout records per class when there is no test file. Default: 10% of the smallest class (at least 1). */
  holdoutPerClass?: number;
  /** Keep only this many training records per class (after the holdout is removed). */
  trainPerClass?: number;
  /** Subsample the test set to this many records per class. */
  evalPerClass?: number;
  /** 'auto' (default): test when present, else holdout. 'holdout' forces a holdout even when a test file exists. */
  evalOn?: 'auto' | 'test' | 'holdout';
}

export function makeRunSplits(data: CifarData, opts: SplitOptions): RunSplits {
  const evalOn = opts.evalOn ?? 'auto';
  checkCount('holdoutPerClass', opts.holdoutPerClass);
  checkCount('trainPerClass', opts.trainPerClass);
  checkCount('evalPerClass', opts.evalPerClass);
  const rng = new Rng(opts.seed);
  const byClass = indicesByClass(data.train, data.numClasses);
  const trainCap = opts.trainPerClass;

  if (evalOn === 'test' && !data.test) {
    throw new DataError(`${data.id}: evaluation on the test set requested but no test file was loaded (files: ${data.files.join(', ')})`);
  }
  if (data.test && evalOn !== 'holdout') {
    let evaluation = data.test;
    let description = `test (${data.test.n})`;
    if (opts.evalPerClass !== undefined) {
      const testByClass = indicesByClass(data.test, data.numClasses);
      requireCounts(data, testByClass, opts.evalPerClass, 'test', `evalPerClass ${opts.evalPerClass}`);
      evaluation = subsetSplit(data.test, pickPerClass(testByClass, opts.evalPerClass, rng.fork('eval')).chosen);
      description = `test subsample ${opts.evalPerClass}/class (${evaluation.n}), seed ${opts.seed}`;
    }
    let train = data.train;
    if (trainCap !== undefined) {
      requireCounts(data, byClass, trainCap, 'train', `trainPerClass ${trainCap}`);
      train = subsetSplit(data.train, pickPerClass(byClass, trainCap, rng.fork('train')).chosen);
    }
    return { train, evaluation, evalSplit: 'test', description };
  }

  const smallest = Math.min(...byClass.map((c) => c.length));
  const holdout = opts.holdoutPerClass ?? Math.max(1, Math.floor(smallest * 0.1));
  const need = holdout + (trainCap ?? 1);
  requireCounts(data, byClass, need, 'train', `holdoutPerClass ${holdout} + trainPerClass ${trainCap ?? '(at least 1)'}`);
  const held = pickPerClass(byClass, holdout, rng.fork('holdout'));
  const evaluation = subsetSplit(data.train, held.chosen);
  const trainIdx = trainCap === undefined ? sorted(held.rest.flat()) : pickPerClass(held.rest, trainCap, rng.fork('train')).chosen;
  const train = subsetSplit(data.train, trainIdx);
  const why = data.test ? 'requested' : 'no test file';
  const description =
    `holdout ${holdout}/class of train (${evaluation.n}), seed ${opts.seed}` +
    `${trainCap !== undefined ? `; train ${trainCap}/class (${train.n})` : ''} (${why})`;
  return { train, evaluation, evalSplit: 'holdout', description };
}

/**
 * Per class, `k` indices drawn without replacement (seeded, one forked stream per class).
 * Returns all chosen indices ascending, and per class the indices not chosen, ascending.
 */
function pickPerClass(byClass: number[][], k: number, rng: Rng): { chosen: Int32Array; rest: number[][] } {
  const chosen: number[] = [];
  const rest = byClass.map((idx, c) => {
    const order = rng.fork(c).shuffle(Int32Array.from(idx)) as Int32Array;
    chosen.push(...order.subarray(0, k));
    return Array.from(order.subarray(k)).sort((a, b) => a - b);
  });
  return { chosen: sorted(chosen), rest };
}

function sorted(a: number[]): Int32Array {
  return Int32Array.from(a).sort();
}

function requireCounts(data: CifarData, byClass: number[][], need: number, where: string, what: string): void {
  const short = byClass.map((idx, c) => ({ c, n: idx.length })).filter(({ n }) => n < need);
  if (short.length > 0) {
    const list = short.slice(0, 5).map(({ c, n }) => `${data.classNames[c] ?? c} (class ${c}): ${n}`).join(', ');
    throw new DataError(
      `${data.id} ${where}: ${what} needs ${need} records per class, but ${short.length} class(es) have fewer: ${list}` +
        `${short.length > 5 ? ', ...' : ''}`,
    );
  }
}

function checkCount(name: string, v: number | undefined): void {
  if (v !== undefined && !(Number.isInteger(v) && v > 0)) {
    throw new DataError(`${name} must be a positive integer, got ${v}`);
  }
}
