/**
 * Bootstrap over seeds: each method's per-seed accuracies are resampled with replacement,
 * independently per method, B times; every resample gives each method a mean. From those means:
 * an interval for Kendall's tau-b against a published ordering, and an interval for each method's
 * rank on the board. Seeded (mulberry32), so a site rebuilt from the same rows prints the same
 * intervals. With two seeds a method's resampled mean takes only three values: the intervals are
 * coarse, and the pages say how many seeds they rest on.
 */
import { kendallTauB } from './stats.js';

/** Resamples per bootstrap. */
export const BOOTSTRAP_RESAMPLES = 2000;
/** The report's bootstrap seed (fixed: the same rows give the same site). */
export const BOOTSTRAP_SEED = 20_211;

/** mulberry32: a small seeded generator of uniform numbers in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** B resampled means of each sample: result[b][k] is sample k's mean in resample b. Every sample needs a value. */
export function bootstrapMeans(samples: readonly (readonly number[])[], resamples = BOOTSTRAP_RESAMPLES, seed = BOOTSTRAP_SEED): number[][] {
  samples.forEach((s, k) => {
    if (s.length === 0) throw new Error(`bootstrapMeans: sample ${k} is empty`);
  });
  const rand = mulberry32(seed);
  const out: number[][] = [];
  for (let b = 0; b < resamples; b++) {
    out.push(samples.map((s) => {
      let sum = 0;
      for (let i = 0; i < s.length; i++) sum += s[Math.floor(rand() * s.length)]!;
      return sum / s.length;
    }));
  }
  return out;
}

/** The 95% percentile interval of values: the 2.5% and 97.5% order statistics (lower and upper nearest rank). */
export function percentileInterval(values: readonly number[], level = 0.95): [number, number] {
  const v = [...values].sort((a, b) => a - b);
  const q = (1 - level) / 2;
  return [v[Math.floor(q * (v.length - 1))]!, v[Math.ceil((1 - q) * (v.length - 1))]!];
}

export interface TauWithInterval {
  tau: number | null;
  concordant: number;
  discordant: number;
  /** 95% bootstrap interval of tau-b over seeds; null when a method has fewer than 2 seeds or tau is undefined. */
  interval: [number, number] | null;
}

/**
 * Kendall tau-b between published values and the measured means of `samples` (per-seed values of
 * the same methods, in the same order), with its bootstrap interval over seeds.
 */
export function tauWithInterval(samples: readonly (readonly number[])[], published: readonly number[], resamples = BOOTSTRAP_RESAMPLES, seed = BOOTSTRAP_SEED): TauWithInterval {
  const means = samples.map((s) => s.reduce((a, b) => a + b, 0) / s.length);
  const k = kendallTauB(published, means);
  if (k.tau === null || samples.some((s) => s.length < 2)) return { tau: k.tau, concordant: k.concordant, discordant: k.discordant, interval: null };
  const taus = bootstrapMeans(samples, resamples, seed).map((m) => kendallTauB(published, m).tau).filter((t): t is number => t !== null);
  return { tau: k.tau, concordant: k.concordant, discordant: k.discordant, interval: taus.length ? percentileInterval(taus) : null };
}

/**
 * 95% bootstrap intervals of each method's rank (1 = highest mean; a method tied with others
 * takes the best rank of the tie). Methods with one seed keep their value in every resample.
 */
export function rankIntervals(samples: readonly (readonly number[])[], resamples = BOOTSTRAP_RESAMPLES, seed = BOOTSTRAP_SEED): [number, number][] {
  const ranks: number[][] = samples.map(() => []);
  for (const m of bootstrapMeans(samples, resamples, seed)) {
    m.forEach((x, k) => ranks[k]!.push(1 + m.filter((y) => y > x).length));
  }
  return ranks.map((r) => percentileInterval(r));
}
