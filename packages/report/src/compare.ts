/**
 * Measured beside published: every method/pair a leaderboard ran, matched to the published rows
 * of the same dataset, method id and teacher/student model ids; and, per published table, the
 * rank agreement (Kendall tau-b) between the published and the measured ordering of methods.
 */
import { pairLabel, type Leaderboard, type MethodStats } from './leaderboard.js';
import type { PublishedRow, PublishedTable } from './published.js';
import { kendallTauB } from './stats.js';

export interface ComparisonRow {
  stats: MethodStats;
  /** null: kdbench ran it, no published table has this method on this pair. */
  published: PublishedRow | null;
}

export interface RankAgreement {
  table: string;
  /** The pair the ordering is over, or null for all matched rows of the table pooled. */
  pair: string | null;
  n: number;
  tau: number | null;
  items: { method: string; pair: string; published: number; measured: number }[];
}

function matches(s: MethodStats, p: PublishedRow, pairsOfStudent: Set<string>): boolean {
  if (s.variant || p.methodId !== s.method || p.studentId !== s.student) return false; // published rows are the default setting
  if (s.teacher) return p.teacherId === s.teacher;
  // A label-only (vanilla) student matches the published student rows of the pairs it serves here.
  return p.teacherId !== null && pairsOfStudent.has(`${p.teacherId}|${p.studentId}`);
}

export function compare(board: Leaderboard, tables: readonly PublishedTable[]): ComparisonRow[] {
  const pairsHere = new Set(board.stats.filter((s) => s.teacher).map((s) => `${s.teacher}|${s.student}`));
  const published = tables.filter((t) => t.dataset === board.dataset).flatMap((t) => t.rows);
  const out: ComparisonRow[] = [];
  for (const s of board.stats) {
    const hits = published.filter((p) => matches(s, p, pairsHere));
    if (hits.length === 0) out.push({ stats: s, published: null });
    for (const p of hits) out.push({ stats: s, published: p });
  }
  return out;
}

/** Kendall tau-b per published table and pair, and pooled over the table's matched rows. */
export function rankAgreement(rows: readonly ComparisonRow[], tables: readonly PublishedTable[]): RankAgreement[] {
  const out: RankAgreement[] = [];
  for (const t of tables) {
    const items = rows
      .filter((r) => r.published?.table === t.id && r.published.distilledAcc !== null)
      .map((r) => ({
        method: r.stats.method,
        pair: pairLabel(r.published!.teacherId ?? r.published!.teacher, r.published!.studentId ?? r.published!.student),
        published: r.published!.distilledAcc!,
        measured: r.stats.mean,
      }));
    if (items.length === 0) continue;
    const pairs = [...new Set(items.map((i) => i.pair))].sort();
    const one = (pair: string | null, its: typeof items): RankAgreement => {
      const k = kendallTauB(its.map((i) => i.published), its.map((i) => i.measured));
      return { table: t.id, pair, n: its.length, tau: k.tau, items: its };
    };
    for (const pair of pairs) out.push(one(pair, items.filter((i) => i.pair === pair)));
    if (pairs.length > 1) out.push(one(null, items));
  }
  return out;
}
