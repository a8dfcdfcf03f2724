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
  /** Set when the setting is a published row's own (HKD+KD: hkd with alpha 1); teacher and student are then the published pair. */
  published?: PublishedRow;
}

/**
 * The setting a row is in for matching: the default (true), the setting a suite declares for the
 * pair (its hp), or null (another setting); a teacher-free row whose only difference is its
 * partner network (`peer=wrn_28_10`) is in the default setting.
 */
function rowSetting(s: MethodStats, dataset: string, declared: readonly SettingVariant[]): SettingVariant | true | null {
  if (!s.variant) return true;
  if (s.partner !== null && PARTNER_KEYS.some((k) => s.variant === `${k}=${s.partner}`)) return true;
  return declared.find((d) => !d.published && d.dataset === dataset && d.teacher === s.teacher && d.student === s.student && d.method === s.method && d.variant === s.variant) ?? null;
}

/**
 * The variant names of declared settings, as variantOf names a row recorded in them (the method's
 * defaults with the declared values over them): the suites' (their pairs' hp) and, given the
 * published tables, the settings published rows name (`published` set).
 */
export function settingVariants(settings: readonly DeclaredSetting[], meta: ReadonlyMap<string, MethodMeta>, tables: readonly PublishedTable[] = []): SettingVariant[] {
  const variant = (method: string, hp: Record<string, unknown>) =>
    variantOf({ method, hyperparameters: JSON.stringify({ ...(meta.get(method)?.defaults ?? {}), ...hp }) }, meta);
  const suites = settings.map((d) => ({ dataset: d.dataset, teacher: d.teacher, student: d.student, method: d.method, declaredIn: d.declaredIn, variant: variant(d.method, d.hyperparameters) }));
  const published = tables.flatMap((t) => t.rows).filter((p) => p.hyperparameters && p.methodId && meta.has(p.methodId))
    .map((p) => ({ dataset: p.dataset, teacher: p.teacherId ?? p.teacher, student: p.studentId ?? p.student, method: p.methodId!, declaredIn: `${p.table}: ${p.method}`, variant: variant(p.methodId!, p.hyperparameters!), published: p }));
  return [...suites, ...published];
}

export function compare(board: Leaderboard, tables: readonly PublishedTable[], refs: readonly PairReference[] = [], declared: readonly SettingVariant[] = []): ComparisonRow[] {
  const pairsHere = new Set(board.stats.filter((s) => s.teacher).map((s) => `${s.teacher}|${s.student}`));
  const byTable = new Map(tables.map((t) => [t.id, t]));
  const all = tables.flatMap((t) => t.rows);
  const ownSetting = new Map(declared.filter((d) => d.published).map((d) => [d.published!, d.variant]));
  /**
   * Whether row s, in `setting`, is comparable with published row p: a published row with its own
   * setting takes the rows run in it; any other takes rows in the default or declared setting, but
   * not those run in the setting of another published row of its table, method and pair.
   */
  const admits = (s: MethodStats, p: PublishedRow, setting: SettingVariant | true | null): boolean => {
    const own = ownSetting.get(p);
    if (own !== undefined) return s.variant === own;
    const another = !!s.variant && [...ownSetting].some(([q, v]) => v === s.variant && q.table === p.table && q.methodId === p.methodId
      && q.teacherId === p.teacherId && q.studentId === p.studentId && q.dataset === p.dataset);
    return setting !== null && !another;
  };
  const out: ComparisonRow[] = [];
  for (const s of board.stats) {
    const hits: ComparisonRow[] = [];
    const setting = rowSetting(s, board.dataset, declared);
    const declaredIn = setting === true || setting === null ? null : setting.declaredIn;
    for (const p of all) if (exactMatch(s, p, board.dataset, pairsHere) && admits(s, p, setting)) hits.push({ stats: s, published: p, via: null, declaredIn });
    for (const r of referencesFor(s, board, refs, pairsHere)) {
      for (const p of byTable.get(r.table)?.rows ?? []) {
        if (p.methodId === s.method && p.teacherId === r.publishedTeacher && p.studentId === r.publishedStudent && admits(s, p, setting) && !hits.some((h) => h.published === p)) {
          hits.push({ stats: s, published: p, via: r, declaredIn });
        }
      }
    }
    out.push(...(hits.length ? hits : [{ stats: s, published: null, via: null, declaredIn: null }]));
  }
  return out;
}
