/**
 * Measured beside published: every method/pair a leaderboard ran, matched to published rows of
 * the same method id, either on the same dataset and teacher/student model ids, or through a
 * declared reference pair (references.ts: resnet20 -> resnet8 standing in for the CRD table's
 * resnet56 -> resnet20). agreement.ts computes the rank agreement from these matches.
 */
import { PARTNER_KEYS, type Leaderboard, type MethodStats } from './leaderboard.js';
import type { PublishedRow, PublishedTable } from './published.js';
import { referencesOf, type PairReference } from './references.js';

export interface ComparisonRow {
  stats: MethodStats;
  /** null: kdbench ran it, no published table has this method on this pair (or its reference pair). */
  published: PublishedRow | null;
  /** The declared reference the match goes through; null for a match on the same dataset and pair. */
  via: PairReference | null;
}

/** The reference declarations a row's matches may go through: its own pair's, or for a teacher-free row those of its student's pairs here. */
function referencesFor(s: MethodStats, board: Leaderboard, refs: readonly PairReference[], pairsHere: ReadonlySet<string>): PairReference[] {
  if (s.teacher) return referencesOf(refs, board.dataset, s.teacher, s.student);
  const teachers = [...pairsHere].map((k) => k.split('|')).filter(([, st]) => st === s.student).map(([t]) => t!);
  return teachers.flatMap((t) => referencesOf(refs, board.dataset, t, s.student));
}

function exactMatch(s: MethodStats, p: PublishedRow, dataset: string, pairsHere: ReadonlySet<string>): boolean {
  if (p.dataset !== dataset || p.methodId !== s.method || p.studentId !== s.student) return false;
  if (s.teacher) return p.teacherId === s.teacher;
  // An online or self-distillation row: its teacher column names the partner network (a DML peer,
  // Rocket's booster) or none ('student ensemble', '' for self-distillation).
  if (p.scheme === 'online' || p.scheme === 'self') return p.teacherId === s.partner;
  // A label-only (vanilla) student matches the published student rows of the pairs it serves here.
  return p.teacherId !== null && pairsHere.has(`${p.teacherId}|${p.studentId}`);
}

/** Published rows are the default setting; a teacher-free row whose only difference is its partner network (`peer=wrn_28_10`) is that setting too. */
function defaultSetting(s: MethodStats): boolean {
  if (!s.variant) return true;
  return s.partner !== null && PARTNER_KEYS.some((k) => s.variant === `${k}=${s.partner}`);
}

export function compare(board: Leaderboard, tables: readonly PublishedTable[], refs: readonly PairReference[] = []): ComparisonRow[] {
  const pairsHere = new Set(board.stats.filter((s) => s.teacher).map((s) => `${s.teacher}|${s.student}`));
  const byTable = new Map(tables.map((t) => [t.id, t]));
  const all = tables.flatMap((t) => t.rows);
  const out: ComparisonRow[] = [];
  for (const s of board.stats) {
    const hits: ComparisonRow[] = [];
    if (defaultSetting(s)) {
      for (const p of all) if (exactMatch(s, p, board.dataset, pairsHere)) hits.push({ stats: s, published: p, via: null });
      for (const r of referencesFor(s, board, refs, pairsHere)) {
        for (const p of byTable.get(r.table)?.rows ?? []) {
          if (p.methodId === s.method && p.teacherId === r.publishedTeacher && p.studentId === r.publishedStudent && !hits.some((h) => h.published === p)) {
            hits.push({ stats: s, published: p, via: r });
          }
        }
      }
    }
    out.push(...(hits.length ? hits : [{ stats: s, published: null, via: null }]));
  }
  return out;
}
