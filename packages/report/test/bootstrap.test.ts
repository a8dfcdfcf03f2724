import { describe, expect, it } from 'vitest';
import { bootstrapMeans, mulberry32, percentileInterval, rankIntervals, tauWithInterval } from '../src/bootstrap.js';

describe('bootstrap over seeds', () => {
  it('draws the same uniform numbers from the same seed', () => {
    const a = mulberry32(7);
    const b = mulberry32(7);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b()));
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(mulberry32(8)()).not.toBe(xs[0]);
  });

  it('resamples each method\'s seeds: one seed stays fixed, two seeds give their mean or either value', () => {
    const means = bootstrapMeans([[5], [10, 20]], 400, 1);
    expect(means).toHaveLength(400);
    expect(new Set(means.map((m) => m[0]))).toEqual(new Set([5]));
    expect(new Set(means.map((m) => m[1]))).toEqual(new Set([10, 15, 20]));
    expect(() => bootstrapMeans([[1], []])).toThrow('sample 1 is empty');
  });

  it('takes the 2.5% and 97.5% order statistics', () => {
    // 41 values 0..40: positions floor(0.025 * 40) = 1 and ceil(0.975 * 40) = 39
    expect(percentileInterval(Array.from({ length: 41 }, (_, i) => 40 - i))).toEqual([1, 39]);
  });

  it('gives each method a rank interval: [1, 1] when clearly ahead, [1, 2] when two overlap', () => {
    expect(rankIntervals([[10, 11], [5, 6], [0, 1]])).toEqual([[1, 1], [2, 2], [3, 3]]);
    // A {10, 11, 12} and B {11, 12, 13}: A > B in 1 of 16 resamples (6%, above 2.5%), so both can be first or second
    expect(rankIntervals([[10, 12], [11, 13], [0, 1]])).toEqual([[1, 2], [1, 2], [3, 3]]);
  });

  it("gives tau-b an interval over seeds, and none with a one-seed method", () => {
    const same = tauWithInterval([[3, 3.1], [2, 2.1], [1, 1.1]], [30, 20, 10]);
    expect(same.tau).toBe(1);
    expect(same.interval).toEqual([1, 1]);
    const crossing = tauWithInterval([[3, 1], [2, 2.2], [0, 0.5]], [30, 20, 10]);
    // point means 2, 2.1, 0.25: one discordant pair of 3 -> 1/3; resamples put the first method above or below the second
    expect(crossing.tau).toBeCloseTo(1 / 3, 12);
    expect(crossing.interval).toEqual([1 / 3, 1]);
    expect(tauWithInterval([[3], [2, 2.2]], [30, 20]).interval).toBeNull();
  });
});
