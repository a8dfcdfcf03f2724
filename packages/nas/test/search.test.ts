import { describe, expect, it } from 'vitest';
import { Rng } from '@kdbench/engine';
import type { SearchGenome } from '@kdbench/models';
import { CIFAR_SPACE, type Measure } from '../src/space.js';
import { randomSearch, regularizedEvolution } from '../src/search.js';

// A hand-made score: how many of the 12 genes equal those of a target genome (the optimum is 12).
const target: SearchGenome = {
  stages: [
    { depth: 3, width: 24, block: 'bottleneck', kernel: 5 },
    { depth: 2, width: 48, block: 'basic', kernel: 3 },
    { depth: 1, width: 96, block: 'bottleneck', kernel: 5 },
  ],
};
const matches = (g: SearchGenome) =>
  g.stages.reduce((n, s, i) => n + (['depth', 'width', 'block', 'kernel'] as const).filter((k) => s[k] === target.stages[i]![k]).length, 0);
const score = (g: SearchGenome) => ({ score: matches(g), top1: matches(g), seconds: 0 });
// a fake measure: cost grows with depth; the budget excludes depth 3 in the last stage
const measure: Measure = (g) => ({ params: g.stages.reduce((n, s) => n + s.depth, 0), macs: g.stages[2]!.depth });
const budget = { maxMacs: 2, maxParams: Infinity };

describe('regularised evolution on a mocked score', () => {
  it('finds the optimum of a hand-made score quickly, within the budget', () => {
    const r = regularizedEvolution({ space: CIFAR_SPACE, rng: new Rng(5), budget, measure, candidates: 400, population: 20, sample: 5, score });
    expect(r.best.score).toBe(12);
    expect(r.best.born).toBeLessThan(400);
    for (const c of r.history) expect(c.macs).toBeLessThanOrEqual(2);
    const random = randomSearch({ space: CIFAR_SPACE, rng: new Rng(5), budget, measure, candidates: 400, score });
    expect(random.best.score).toBeLessThan(12);
  });

  it('ageing removes the oldest member, whatever its score', () => {
    let calls = 0;
    const first = (g: SearchGenome, born: number) => ({ score: born === 0 ? 100 : matches(g), top1: 0, seconds: (calls++, 0) });
    const r = regularizedEvolution({ space: CIFAR_SPACE, rng: new Rng(1), budget, measure, candidates: 12, population: 5, sample: 2, score: first });
    expect(calls).toBe(12);
    expect(r.history.map((c) => c.born)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(r.population!.map((c) => c.born)).toEqual([7, 8, 9, 10, 11]);
    expect(r.best.born).toBe(0); // the best ever scored is kept as the answer even after it died
  });

  it('is deterministic under a seed and checks its counts', () => {
    const run = () => regularizedEvolution({ space: CIFAR_SPACE, rng: new Rng(9), budget, measure, candidates: 30, population: 6, sample: 3, score }).history.map((c) => c.key);
    expect(run()).toEqual(run());
    expect(() => randomSearch({ space: CIFAR_SPACE, rng: new Rng(0), budget, measure, candidates: 0, score })).toThrow(/candidates must be a positive integer/);
    const short = regularizedEvolution({ space: CIFAR_SPACE, rng: new Rng(0), budget, measure, candidates: 3, population: 10, sample: 2, score });
    expect(short.history.length).toBe(3);
  });
});
