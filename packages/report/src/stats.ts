/**
 * The statistics of the report, small and dependency-free: mean, sample standard deviation,
 * Student-t confidence intervals, the paired t-test (two-sided p from the regularised incomplete
 * beta function), Kendall's tau-b, Holm's correction and rank groups; and the rules the pages
 * follow (`seedSummary`): no interval and no p-value from fewer than 3 seeds, intervals clamped to
 * the accuracy range [0, 100]. Each function returns null where the quantity is undefined (too few
 * values, zero variance in a denominator) instead of NaN, so pages print "n/a".
 */

export function mean(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** The middle value (the mean of the two middle ones for an even count); NaN without values. */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length === 0 ? NaN : s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The side of zero an interval lies wholly on: 1 above, -1 below; 0 when it holds zero or there is none. */
export function intervalSide(ci: readonly [number, number] | null): number {
  return ci === null ? 0 : ci[0] > 0 ? 1 : ci[1] < 0 ? -1 : 0;
}

/** A value outside an interval (false without either). */
export function outsideInterval(x: number | null, ci: readonly [number, number] | null): boolean {
  return x !== null && ci !== null && (x < ci[0] || x > ci[1]);
}

export interface SignCounts {
  /** Measured gains compared with a published one of some sign (a published gain of zero is left out). */
  compared: number;
  /** Gains with the published sign, and those whose 95% interval also lies on that side of zero. */
  agree: number;
  agreeClear: number;
  /** Gains with another sign, and those whose interval lies wholly on the other side of zero. */
  against: number;
  againstClear: number;
}

/** How measured gains (with their intervals over seeds) compare in sign with published gains, and how many beyond seed noise. */
export function signCounts(items: readonly { gain: number; gainCi: readonly [number, number] | null; published: number }[]): SignCounts {
  const out: SignCounts = { compared: 0, agree: 0, agreeClear: 0, against: 0, againstClear: 0 };
  for (const { gain, gainCi, published } of items) {
    const side = Math.sign(published);
    if (side === 0) continue;
    out.compared++;
    const clear = intervalSide(gainCi);
    if (Math.sign(gain) === side) {
      out.agree++;
      if (clear === side) out.agreeClear++;
    } else {
      out.against++;
      if (clear === -side) out.againstClear++;
    }
  }
  return out;
}

/** Sample standard deviation (n - 1 in the denominator); null below 2 values. */
export function std(xs: readonly number[]): number | null {
  if (xs.length < 2) return null;
  const m = mean(xs)!;
  let s = 0;
  for (const x of xs) s += (x - m) ** 2;
  return Math.sqrt(s / (xs.length - 1));
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9; about 15 significant digits). */
export function logGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  x -= 1;
  let a = c[0]!;
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Regularised incomplete beta I_x(a, b) (continued fraction, Numerical Recipes' betacf). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(x, a, b)) / a;
  return 1 - (front * betaContinuedFraction(1 - x, b, a)) / b;
}

function betaContinuedFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return h;
}

/** Two-sided p-value of Student's t statistic with `df` degrees of freedom: P(|T| >= |t|). */
export function studentTTwoSidedP(t: number, df: number): number {
  if (!Number.isFinite(t)) return 0;
  return incompleteBeta(df / (df + t * t), df / 2, 0.5);
}

/** The t quantile q with P(|T| <= q) = level (e.g. 0.95 -> 12.706 for df 1, 1.960 as df -> inf). */
export function studentTQuantile(level: number, df: number): number {
  const alpha = 1 - level;
  let lo = 0;
  let hi = 1;
  while (studentTTwoSidedP(hi, df) > alpha) hi *= 2;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (studentTTwoSidedP(mid, df) > alpha) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

export interface Summary {
  n: number;
  mean: number | null;
  std: number | null;
  /** Half-width of the Student-t confidence interval of the mean; null below 2 values. */
  ciHalf: number | null;
  ci: [number, number] | null;
}

/** Mean, sample std and the `level` (default 95%) Student-t confidence interval of the mean. */
export function summarize(xs: readonly number[], level = 0.95): Summary {
  const m = mean(xs);
  const s = std(xs);
  if (m === null || s === null) return { n: xs.length, mean: m, std: s, ciHalf: null, ci: null };
  const half = (studentTQuantile(level, xs.length - 1) * s) / Math.sqrt(xs.length);
  return { n: xs.length, mean: m, std: s, ciHalf: half, ci: [m - half, m + half] };
}

export interface PairedTest {
  /** Number of matched pairs. */
  n: number;
  /** Mean of a - b over the pairs. */
  meanDiff: number | null;
  t: number | null;
  df: number | null;
  /** Two-sided p-value; null ("n/a") with fewer than 2 pairs. */
  p: number | null;
}

/**
 * Paired t-test of a against b. With zero variance of the differences the statistic is infinite
 * (p = 0) when the mean difference is not zero, and undefined (p = 1, no evidence) when it is.
 */
export function pairedTTest(a: readonly number[], b: readonly number[]): PairedTest {
  if (a.length !== b.length) throw new Error(`pairedTTest: ${a.length} vs ${b.length} values`);
  const d = a.map((x, i) => x - b[i]!);
  const n = d.length;
  const md = mean(d);
  if (n < 2) return { n, meanDiff: md, t: null, df: null, p: null };
  const sd = std(d)!;
  const df = n - 1;
  if (sd === 0) return md === 0 ? { n, meanDiff: 0, t: null, df, p: 1 } : { n, meanDiff: md, t: Math.sign(md!) * Infinity, df, p: 0 };
  const t = md! / (sd / Math.sqrt(n));
  return { n, meanDiff: md, t, df, p: studentTTwoSidedP(t, df) };
}

/** Matches two seed-keyed samples by seed and runs the paired t-test on the common seeds. */
export function pairedBySeed(a: ReadonlyMap<number, number>, b: ReadonlyMap<number, number>): PairedTest & { seeds: number[] } {
  const seeds = [...a.keys()].filter((s) => b.has(s)).sort((x, y) => x - y);
  return { ...pairedTTest(seeds.map((s) => a.get(s)!), seeds.map((s) => b.get(s)!)), seeds };
}

export interface KendallTau {
  n: number;
  tau: number | null;
  concordant: number;
  discordant: number;
}

/**
 * Kendall's tau-b: (nc - nd) / sqrt((n0 - n1)(n0 - n2)), n0 = n(n-1)/2, n1 / n2 the pairs tied
 * in x / in y. Null below 2 items or when either ordering is all ties.
 */
export function kendallTauB(x: readonly number[], y: readonly number[]): KendallTau {
  if (x.length !== y.length) throw new Error(`kendallTauB: ${x.length} vs ${y.length} values`);
  const n = x.length;
  let nc = 0;
  let nd = 0;
  let tx = 0;
  let ty = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const dx = Math.sign(x[i]! - x[j]!);
      const dy = Math.sign(y[i]! - y[j]!);
      if (dx === 0) tx++;
      if (dy === 0) ty++;
      if (dx !== 0 && dy !== 0) {
        if (dx === dy) nc++;
        else nd++;
      }
    }
  }
  const n0 = (n * (n - 1)) / 2;
  const denom = Math.sqrt((n0 - tx) * (n0 - ty));
  return { n, tau: n < 2 || denom === 0 ? null : (nc - nd) / denom, concordant: nc, discordant: nd };
}

/** Fewest seeds (or seed pairs) for a t-interval or a p-value on the pages; below it: per-seed values and their range. */
export const MIN_SEEDS = 3;

/** An interval clamped to [lo, hi] (accuracies: [0, 100]); null stays null. */
export function clampInterval(ci: readonly [number, number] | null, lo = 0, hi = 100): [number, number] | null {
  if (!ci) return null;
  return [Math.min(hi, Math.max(lo, ci[0])), Math.min(hi, Math.max(lo, ci[1]))];
}

export interface SeedSummary extends Summary {
  /** The per-seed values, as given. */
  values: number[];
  /** [min, max] of the values; null without values. */
  range: [number, number] | null;
  /** Fewer than MIN_SEEDS values: `ci` and `ciHalf` are null, pages show the values and their range. */
  tooFew: boolean;
}

/**
 * What the pages print for one method over seeds: mean and sample std always; the Student-t
 * interval only from MIN_SEEDS values on, clamped to [0, 100] (`ciHalf` stays the unclamped half-width).
 */
export function seedSummary(xs: readonly number[], level = 0.95): SeedSummary {
  const s = summarize(xs, level);
  const range: [number, number] | null = xs.length ? [Math.min(...xs), Math.max(...xs)] : null;
  if (xs.length < MIN_SEEDS) return { ...s, ciHalf: null, ci: null, values: [...xs], range, tooFew: true };
  return { ...s, ci: clampInterval(s.ci), values: [...xs], range, tooFew: false };
}

/**
 * Holm's step-down correction of p-values for the number of tests (the non-null ones): sorted
 * ascending, the k-th smallest (k from 0) becomes max over j <= k of min(1, (m - j) p_(j)).
 * Returns the adjusted values in the input order; nulls stay null.
 */
export function holm(ps: readonly (number | null)[]): (number | null)[] {
  const order = ps.map((p, i) => ({ p, i })).filter((x): x is { p: number; i: number } => x.p !== null).sort((a, b) => a.p - b.p);
  const m = order.length;
  const out: (number | null)[] = ps.map(() => null);
  let running = 0;
  order.forEach(({ p, i }, k) => {
    running = Math.max(running, Math.min(1, (m - k) * p));
    out[i] = running;
  });
  return out;
}

/**
 * Rank groups: the best mean leads group 1, which holds every method whose interval reaches the
 * leader's lower bound (hi >= leader's lo: the intervals overlap); the best of the rest leads the
 * next group, and so on. A group's rank is 1 + the number of methods in earlier groups, so tied
 * methods share a rank (1, 1, 1, 4, ...). A null interval counts as the point [mean, mean].
 * Returns the rank of each item in the input order.
 */
export function rankGroups(items: readonly { mean: number; ci: readonly [number, number] | null }[]): number[] {
  const iv = (i: number): [number, number] => (items[i]!.ci ? [items[i]!.ci![0], items[i]!.ci![1]] : [items[i]!.mean, items[i]!.mean]);
  let rest = items.map((_, i) => i).sort((a, b) => items[b]!.mean - items[a]!.mean);
  const rank: number[] = items.map(() => 0);
  let placed = 0;
  while (rest.length) {
    const leaderLo = iv(rest[0]!)[0];
    const group = rest.filter((i) => i === rest[0] || iv(i)[1] >= leaderLo);
    for (const i of group) rank[i] = placed + 1;
    placed += group.length;
    rest = rest.filter((i) => !group.includes(i));
  }
  return rank;
}
