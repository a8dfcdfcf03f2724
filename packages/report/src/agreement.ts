/**
 * The agreement of a leaderboard with each published table it is compared with (by the same pair
 * or by a declared reference pair): Kendall tau-b between the published and the measured
 * ordering with its bootstrap interval over seeds, the share of methods whose gain over the
 * vanilla student has the published sign (and how many of those signs, either way, the gain's
 * 95% interval over seeds makes clear), and the two orderings side by side.
 */
import { tauWithInterval } from './bootstrap.js';
import { signCounts } from './stats.js';
import type { ComparisonRow } from './compare.js';
import { pairLabel } from './leaderboard.js';
import type { PublishedTable } from './published.js';
import type { PairReference } from './references.js';

export interface OrderedItem {
  method: string;
  /** The measured row's name (method and setting): the same in both orderings, unique within one. */
  key: string;
  name: string;
  family: string;
  value: number;
  /** Seeds behind a measured value (0 for published values). */
  n: number;
}

export interface Agreement {
  table: string;
  tableTitle: string;
  /** "CRD table": the table's name in a sentence. */
  tableShort: string;
  /** The measured pair. */
  pair: string;
  /** The published pair it is compared with (the same pair, or the one `via` stands in for). */
  publishedPair: string;
  via: PairReference | null;
  n: number;
  tau: number | null;
  concordant: number;
  discordant: number;
  /** 95% bootstrap interval of tau over seeds (null with a one-seed method). */
  tauInterval: [number, number] | null;
  /** Smallest number of seeds among the compared methods. */
  minSeeds: number;
  /** Methods (not vanilla) with a measured and a published gain, and those whose gains have the same sign. */
  signTotal: number;
  signAgree: number;
  /**
   * Of the signTotal methods, those whose measured gain's 95% interval (paired by seed with the
   * vanilla student) lies wholly on the published gain's side of zero, and wholly on the other
   * side: sign agreements and disagreements that seed noise does not explain.
   */
  signAgreeClear: number;
  signDisagreeClear: number;
  /** Best first. */
  published: OrderedItem[];
  measured: OrderedItem[];
}

const byValue = (a: OrderedItem, b: OrderedItem) => b.value - a.value || a.key.localeCompare(b.key);

/** One agreement per (published table, measured pair) with at least two methods matched. */
export function agreements(cmp: readonly ComparisonRow[], tables: readonly PublishedTable[]): Agreement[] {
  const byId = new Map(tables.map((t) => [t.id, t]));
  const groups = new Map<string, ComparisonRow[]>();
  for (const c of cmp) {
    const p = c.published;
    if (!p || p.distilledAcc === null) continue;
    const measuredPair = c.via ? pairLabel(c.via.teacher, c.via.student) : pairLabel(p.teacherId ?? p.teacher, p.studentId ?? p.student);
    const k = `${p.table}\u0000${measuredPair}`;
    groups.set(k, [...(groups.get(k) ?? []), c]);
  }
  const out: Agreement[] = [];
  for (const [k, g] of groups) {
    if (g.length < 2) continue;
    const [table, pair] = k.split('\u0000') as [string, string];
    const t = tauWithInterval(g.map((c) => c.stats.values), g.map((c) => c.published!.distilledAcc!));
    const signed = g.filter((c) => c.stats.method !== 'vanilla' && c.stats.gain !== null && c.published!.gain !== null);
    const signs = signCounts(signed.map((c) => ({ gain: c.stats.gain!, gainCi: c.stats.gainCi, published: c.published!.gain! })));
    const p0 = g[0]!.published!;
    out.push({
      table, tableTitle: byId.get(table)?.title ?? table, tableShort: byId.get(table)?.short ?? table, pair,
      publishedPair: pairLabel(p0.teacherId ?? p0.teacher, p0.studentId ?? p0.student),
      via: g[0]!.via, n: g.length, tau: t.tau, concordant: t.concordant, discordant: t.discordant, tauInterval: t.interval,
      minSeeds: Math.min(...g.map((c) => c.stats.n)),
      signTotal: signs.compared,
      signAgree: signs.agree,
      signAgreeClear: signs.agreeClear,
      signDisagreeClear: signs.againstClear,
      published: g.map((c) => ({ method: c.stats.method, key: c.stats.name, name: c.published!.method, family: c.stats.family, value: c.published!.distilledAcc!, n: 0 })).sort(byValue),
      measured: g.map((c) => ({ method: c.stats.method, key: c.stats.name, name: c.stats.name, family: c.stats.family, value: c.stats.mean, n: c.stats.n })).sort(byValue),
    });
  }
  return out.sort((a, b) => b.n - a.n || a.table.localeCompare(b.table) || a.pair.localeCompare(b.pair));
}
