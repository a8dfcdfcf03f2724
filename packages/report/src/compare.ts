/**
 * Measured beside published: every method/pair a leaderboard ran, matched to published rows of
 * the same method id, either on the same dataset and teacher/student model ids, or through a
 * declared reference pair (references.ts: resnet20 -> resnet8 standing in for the CRD table's
 * resnet56 -> resnet20). agreement.ts computes the rank agreement from these matches.
 */
import { PARTNER_KEYS, variantOf, type Leaderboard, type MethodStats } from './leaderboard.js';
import type { PublishedRow, PublishedTable } from './published.js';
import { referencesOf, type DeclaredSetting, type PairReference } from './references.js';
import type { MethodMeta } from './types.js';

export interface ComparisonRow {
  stats: MethodStats;
  /** null: kdbench ran it, no published table has this method on this pair (or its reference pair). */
  published: PublishedRow | null;
  /** The declared reference the match goes through; null for a match on the same dataset and pair. */
  via: PairReference | null;
  /** Where the suite declares the (non-default) setting that makes this row comparable; null for the default setting. */
  declaredIn: string | null;
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

/** A declared setting with the variant name its rows carry (see settingVariants). */
export interface SettingVariant {
  dataset: string;
  teacher: string;
  student: string;
  method: string;
  variant: string;
  declaredIn: string;
}

/**
 * Published rows are the default setting, or the setting a suite declares for the pair (its hp);
 * a teacher-free row whose only difference is its partner network (`peer=wrn_28_10`) is that setting too.
 */
function publishedSetting(s: MethodStats, dataset: string, declared: readonly SettingVariant[]): SettingVariant | true | null {
  if (!s.variant) return true;
  if (s.partner !== null && PARTNER_KEYS.some((k) => s.variant === `${k}=${s.partner}`)) return true;
  return declared.find((d) => d.dataset === dataset && d.teacher === s.teacher && d.student === s.student && d.method === s.method && d.variant === s.variant) ?? null;
}

/** The variant names of declared settings, as variantOf names a row recorded in them (the method's defaults with the declared values over them). */
export function settingVariants(settings: readonly DeclaredSetting[], meta: ReadonlyMap<string, MethodMeta>): SettingVariant[] {
  return settings.map((d) => {
    const hyperparameters = JSON.stringify({ ...(meta.get(d.method)?.defaults ?? {}), ...d.hyperparameters });
    return { dataset: d.dataset, teacher: d.teacher, student: d.student, method: d.method, declaredIn: d.declaredIn, variant: variantOf({ method: d.method, hyperparameters }, meta) };
  });
}

export function compare(board: Leaderboard, tables: readonly PublishedTable[], refs: readonly PairReference[] = [], declared: readonly SettingVariant[] = []): ComparisonRow[] {
  const pairsHere = new Set(board.stats.filter((s) => s.teacher).map((s) => `${s.teacher}|${s.student}`));
  const byTable = new Map(tables.map((t) => [t.id, t]));
  const all = tables.flatMap((t) => t.rows);
  const out: ComparisonRow[] = [];
  for (const s of board.stats) {
    const hits: ComparisonRow[] = [];
    const setting = publishedSetting(s, board.dataset, declared);
    if (setting) {
      const declaredIn = setting === true ? null : setting.declaredIn;
      for (const p of all) if (exactMatch(s, p, board.dataset, pairsHere)) hits.push({ stats: s, published: p, via: null, declaredIn });
      for (const r of referencesFor(s, board, refs, pairsHere)) {
        for (const p of byTable.get(r.table)?.rows ?? []) {
          if (p.methodId === s.method && p.teacherId === r.publishedTeacher && p.studentId === r.publishedStudent && !hits.some((h) => h.published === p)) {
            hits.push({ stats: s, published: p, via: r, declaredIn });
          }
        }
      }
    }
    out.push(...(hits.length ? hits : [{ stats: s, published: null, via: null, declaredIn: null }]));
  }
  return out;
}
