import { describe, expect, it } from 'vitest';
import { clampInterval, holm, intervalSide, kendallTauB, mean, median, outsideInterval, pairedBySeed, pairedTTest, rankGroups, seedSummary, signCounts, std, studentTQuantile, studentTTwoSidedP, summarize } from '../src/stats.js';

describe('mean, std, confidence interval', () => {
  it('match hand-computed values', () => {
    expect(mean([1, 2, 3, 4])).toBe(2.5);
    // squared deviations 2.25 + 0.25 + 0.25 + 2.25 = 5, / (n-1) = 5/3
    expect(std([1, 2, 3, 4])).toBeCloseTo(Math.sqrt(5 / 3), 12);
    const s = summarize([1, 2, 3, 4]);
    // t(0.975, 3) = 3.182446; half = 3.182446 * 1.290994 / 2 = 4.108519 / 2 = 2.054260
    expect(s.ciHalf).toBeCloseTo(2.05426, 5);
    expect(s.ci![0]).toBeCloseTo(0.44574, 5);
    expect(s.ci![1]).toBeCloseTo(4.55426, 5);
  });

  it('is n/a below two values', () => {
    expect(mean([])).toBeNull();
    expect(std([5])).toBeNull();
    expect(summarize([5])).toEqual({ n: 1, mean: 5, std: null, ciHalf: null, ci: null });
  });

  it('uses the Student t quantiles of the tables', () => {
    expect(studentTQuantile(0.95, 1)).toBeCloseTo(12.7062, 3);
    expect(studentTQuantile(0.95, 2)).toBeCloseTo(4.3027, 4);
    expect(studentTQuantile(0.95, 4)).toBeCloseTo(2.7764, 4);
    expect(studentTQuantile(0.95, 30)).toBeCloseTo(2.0423, 4);
    expect(studentTQuantile(0.95, 1e6)).toBeCloseTo(1.96, 2);
  });
});

describe('median, interval sides and sign counts', () => {
  it('takes medians of odd and even counts', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  it('says which side of zero an interval lies on, and whether a value is outside it', () => {
    expect([intervalSide([0.5, 2]), intervalSide([-3, -0.1]), intervalSide([-1, 1]), intervalSide([0, 1]), intervalSide(null)]).toEqual([1, -1, 0, 0, 0]);
    expect([outsideInterval(3, [1, 2]), outsideInterval(0.5, [1, 2]), outsideInterval(1.5, [1, 2]), outsideInterval(null, [1, 2]), outsideInterval(1, null)]).toEqual([true, true, false, false, false]);
  });

  it('counts gains with and against the published sign, and those beyond seed noise', () => {
    const items = [
      { gain: 3, gainCi: [1, 5] as [number, number], published: 0.8 }, // with, clear
      { gain: 1, gainCi: [-2, 4] as [number, number], published: 0.8 }, // with, not clear
      { gain: -3, gainCi: [-6, -1] as [number, number], published: 0.8 }, // against, clear
      { gain: -1, gainCi: null, published: 0.8 }, // against, no interval
      { gain: 2, gainCi: [1, 3] as [number, number], published: -0.4 }, // against a negative published gain, clear
      { gain: 2, gainCi: [1, 3] as [number, number], published: 0 }, // no published sign: not compared
    ];
    expect(signCounts(items)).toEqual({ compared: 5, agree: 2, agreeClear: 1, against: 3, againstClear: 2 });
  });
});

describe('Student t p-values', () => {
  it('match the closed forms for 1, 2 and 3 degrees of freedom', () => {
    // df 1 (Cauchy): p = 1 - (2/pi) atan|t|
    expect(studentTTwoSidedP(1, 1)).toBeCloseTo(0.5, 12);
    expect(studentTTwoSidedP(3, 1)).toBeCloseTo(1 - (2 / Math.PI) * Math.atan(3), 10);
    // df 2: p = 1 - |t| / sqrt(2 + t^2)
    expect(studentTTwoSidedP(2.5, 2)).toBeCloseTo(1 - 2.5 / Math.sqrt(2 + 6.25), 10);
    // df 3 at t = sqrt(6): F = 1/2 + (sqrt2/3 + atan sqrt2)/pi = 0.954140, p = 0.091720
    expect(studentTTwoSidedP(Math.sqrt(6), 3)).toBeCloseTo(0.09172, 5);
  });
});

describe('paired t-test', () => {
  it('matches a hand-computed test', () => {
    // d = [1, 1, 0, 2]: mean 1, sd sqrt(2/3), t = 1 / (sqrt(2/3)/2) = sqrt(6) = 2.449490, df 3, p = 0.091720
    const r = pairedTTest([10, 12, 11, 13], [9, 11, 11, 11]);
    expect(r.n).toBe(4);
    expect(r.meanDiff).toBeCloseTo(1, 12);
    expect(r.t).toBeCloseTo(Math.sqrt(6), 10);
    expect(r.df).toBe(3);
    expect(r.p).toBeCloseTo(0.09172, 5);
  });

  it('says n/a with fewer than 2 pairs and handles zero variance', () => {
    expect(pairedTTest([1], [2]).p).toBeNull();
    expect(pairedTTest([], []).p).toBeNull();
    expect(pairedTTest([2, 3], [1, 2]).p).toBe(0);
    expect(pairedTTest([2, 3], [2, 3]).p).toBe(1);
  });

  it('matches samples by seed', () => {
    const a = new Map([[0, 63.0], [1, 63.4], [2, 62.2], [7, 99]]);
    const b = new Map([[2, 61.5], [0, 62.0], [1, 62.5], [5, 1]]);
    const r = pairedBySeed(a, b);
    expect(r.seeds).toEqual([0, 1, 2]);
    // d = [1.0, 0.9, 0.7]: mean 0.866667, sd 0.152753, t = 9.827076, df 2, p = 1 - t/sqrt(2+t^2) = 0.010197
    expect(r.t).toBeCloseTo(9.827076, 5);
    expect(r.p).toBeCloseTo(0.010197, 5);
  });
});

describe('Kendall tau-b', () => {
  it('matches hand-counted pairs without ties', () => {
    // y = [3,4,1,2,5]: concordant 6, discordant 4 of 10 pairs -> 0.2
    const k = kendallTauB([1, 2, 3, 4, 5], [3, 4, 1, 2, 5]);
    expect(k.concordant).toBe(6);
    expect(k.discordant).toBe(4);
    expect(k.tau).toBeCloseTo(0.2, 12);
    expect(kendallTauB([1, 2, 3], [3, 2, 1]).tau).toBeCloseTo(-1, 12);
  });

  it('corrects for ties (tau-b)', () => {
    // x = [1,2,2,3], y = [1,3,2,3]: nc 4, nd 0, one tie in x, one in y: 4 / sqrt(5 * 5) = 0.8
    const k = kendallTauB([1, 2, 2, 3], [1, 3, 2, 3]);
    expect(k.concordant).toBe(4);
    expect(k.tau).toBeCloseTo(0.8, 12);
  });

  it('is n/a below 2 items or for an all-tied ordering', () => {
    expect(kendallTauB([1], [2]).tau).toBeNull();
    expect(kendallTauB([1, 1, 1], [1, 2, 3]).tau).toBeNull();
  });
});

describe('what the pages print over seeds (seedSummary)', () => {
  it('n = 1: the value, no std, no interval', () => {
    expect(seedSummary([40])).toEqual({ n: 1, mean: 40, std: null, ciHalf: null, ci: null, values: [40], range: [40, 40], tooFew: true });
  });

  it('n = 2: mean, std and the range of the two values, but no t-interval (t(0.975, 1) = 12.71 would give [8.29, 33.71])', () => {
    const s = seedSummary([22, 20]);
    expect(s.mean).toBe(21);
    expect(s.std).toBeCloseTo(Math.SQRT2, 12);
    expect(s.ci).toBeNull();
    expect(s.ciHalf).toBeNull();
    expect(s.range).toEqual([20, 22]);
    expect(s.values).toEqual([22, 20]);
    expect(s.tooFew).toBe(true);
    expect(summarize([22, 20]).ci![0]).toBeCloseTo(21 - 12.7062, 3); // the interval the rule withholds
  });

  it('n >= 3: the Student-t interval', () => {
    // [63.0, 63.4, 62.2]: mean 62.866667, std 0.611010, half = 4.302653 * 0.611010 / sqrt 3 = 1.517829
    const s = seedSummary([63.0, 63.4, 62.2]);
    expect(s.tooFew).toBe(false);
    expect(s.ciHalf).toBeCloseTo(1.517829, 5);
    expect(s.ci![0]).toBeCloseTo(61.348838, 5);
    expect(s.ci![1]).toBeCloseTo(64.384496, 5);
  });

  it('clamps intervals to [0, 100]', () => {
    // [99, 100, 97]: mean 98.666667, std 1.527525, half = 4.302653 * 1.527525 / sqrt 3 = 3.794583 -> [94.872084, 102.461249] -> hi 100
    const hi = seedSummary([99, 100, 97]);
    expect(hi.ci![0]).toBeCloseTo(94.872084, 5);
    expect(hi.ci![1]).toBe(100);
    expect(hi.ciHalf).toBeCloseTo(3.794583, 5);
    // [0.5, 1.5, 0.2]: mean 0.733333, std 0.680686, half = 1.690917 -> [-0.957584, 2.424250] -> lo 0
    const lo = seedSummary([0.5, 1.5, 0.2]);
    expect(lo.ci![0]).toBe(0);
    expect(lo.ci![1]).toBeCloseTo(2.42425, 5);
    expect(clampInterval([-3, 104])).toEqual([0, 100]);
    expect(clampInterval(null)).toBeNull();
  });
});

describe("Holm's correction", () => {
  it('matches a hand-computed example', () => {
    // sorted: 0.005 x 4 = 0.02; 0.01 x 3 = 0.03; 0.03 x 2 = 0.06; 0.04 x 1 = 0.04 -> max(0.06, 0.04) = 0.06
    const adj = holm([0.01, 0.04, 0.03, 0.005, null]);
    expect(adj[0]).toBeCloseTo(0.03, 12);
    expect(adj[1]).toBeCloseTo(0.06, 12);
    expect(adj[2]).toBeCloseTo(0.06, 12);
    expect(adj[3]).toBeCloseTo(0.02, 12);
    expect(adj[4]).toBeNull();
  });

  it('caps at 1 and keeps the order of the p-values', () => {
    expect(holm([0.6, 0.7])).toEqual([1, 1]);
    expect(holm([0.4, 0.5])).toEqual([0.8, 0.8]);
    expect(holm([])).toEqual([]);
    expect(holm([0.03])).toEqual([0.03]);
  });
});

describe('rank groups', () => {
  it("gives the leader's rank to every method whose interval overlaps the leader's, then repeats on the rest", () => {
    // A 70 [68,72] leads; B (hi 72) and D (hi 70) reach A's lo 68: ranks 1. C leads the rest (lo 65.5; E's hi 61 does not reach it): rank 4; E: 5.
    const items = [
      { mean: 65, ci: [60, 70] as [number, number] }, // D
      { mean: 70, ci: [68, 72] as [number, number] }, // A
      { mean: 60, ci: [59, 61] as [number, number] }, // E
      { mean: 66.5, ci: [65.5, 67.5] as [number, number] }, // C
      { mean: 69, ci: [66, 72] as [number, number] }, // B
    ];
    expect(rankGroups(items)).toEqual([1, 1, 5, 4, 1]);
  });

  it('separates methods whose intervals do not overlap, and treats a missing interval as its point', () => {
    expect(rankGroups([{ mean: 3, ci: [2.5, 3.5] }, { mean: 2, ci: [1.5, 2.4] }, { mean: 1, ci: null }])).toEqual([1, 2, 3]);
    expect(rankGroups([{ mean: 3, ci: null }, { mean: 3, ci: null }])).toEqual([1, 1]);
  });
});
