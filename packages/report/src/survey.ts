/**
 * The survey's Tables 5 and 6 (Gou et al., IJCV 2021) row by row: each published row beside the
 * measured rows the leaderboards matched to it (compare.ts: the same method and pair, in the
 * default setting or the one a suite declares; online rows by their partner network), each with the
 * vanilla student of its own board (rows at other widths sit on other boards). A row nothing
 * matched says why: its method has no kdbench implementation, no suite runs it, a suite pair would
 * run it but has not yet, or that pair is sized for GPU machines. survey-page.ts renders this as
 * survey.html and benchmarks/scripts/survey-table.ts prints it for RESULTS.
 */
import type { ComparisonRow } from './compare.js';
import type { Leaderboard, MethodStats } from './leaderboard.js';
import type { PublishedRow, PublishedTable } from './published.js';
import type { SuitePlacement } from './references.js';
import { signCounts, type SignCounts } from './stats.js';

export interface SurveyMeasured {
  board: Leaderboard;
  stats: MethodStats;
  /** The vanilla student of the same board (default setting), if it ran. */
  vanilla: MethodStats | undefined;
  /** The protocol overrides of the board (`widthFactor=0.25`), '' for none. */
  overrides: string;
}

export type SurveyStatus =
  | { kind: 'measured' }
  | { kind: 'not-implemented' }
  | { kind: 'no-suite' }
  /** A suite pair runs it (`where`), no row yet. */
  | { kind: 'not-run'; where: string[] }
  /** Only pairs sized for GPU machines run it. */
  | { kind: 'gpu'; where: string[] };

export interface SurveyRow {
  /** 1-based position in the published table. */
  index: number;
  published: PublishedRow;
  measured: SurveyMeasured[];
  status: SurveyStatus;
}

/** The table ids of the survey's tables among the published ones. */
export const isSurveyTable = (t: Pick<PublishedTable, 'id'>): boolean => t.id.startsWith('survey-');

/** The suite placements that run a published row: its method on its student, with its teacher (offline) or its partner network (online, self). */
export function placementsOf(p: PublishedRow, placements: readonly SuitePlacement[]): SuitePlacement[] {
  return placements.filter((pl) => p.methodId !== null && pl.method === p.methodId && pl.dataset === p.dataset && pl.student === p.studentId
    && (p.scheme === 'offline' ? pl.teacher === p.teacherId : !pl.teacher && pl.partner === p.teacherId));
}

/**
 * Every row of a survey table with what measured it, or why nothing did. `comparisons` are the
 * boards' (site.ts), `implemented` the method ids kdbench has.
 */
export function surveyRows(
  table: PublishedTable,
  boards: readonly Leaderboard[],
  comparisons: ReadonlyMap<string, readonly ComparisonRow[]>,
  implemented: ReadonlySet<string>,
  placements: readonly SuitePlacement[],
): SurveyRow[] {
  const matches = boards.filter((b) => b.dataset === table.dataset).flatMap((board) => (comparisons.get(board.id) ?? [])
    .filter((c) => c.published !== null && c.published.table === table.id)
    .map((c) => ({
      published: c.published!,
      board,
      stats: c.stats,
      vanilla: board.stats.find((v) => v.method === 'vanilla' && !v.variant && v.student === c.stats.student),
      overrides: /\[(.*)\]/.exec(board.protocol.label)?.[1] ?? '',
    })));
  return table.rows.map((p, i) => {
    const measured = matches.filter((m) => m.published === p).map(({ published: _, ...m }) => m);
    return { index: i + 1, published: p, measured, status: statusOf(p, measured, implemented, placements) };
  });
}

function statusOf(p: PublishedRow, measured: readonly SurveyMeasured[], implemented: ReadonlySet<string>, placements: readonly SuitePlacement[]): SurveyStatus {
  if (measured.length) return { kind: 'measured' };
  if (p.methodId === null || !implemented.has(p.methodId)) return { kind: 'not-implemented' };
  const where = placementsOf(p, placements);
  if (where.length === 0) return { kind: 'no-suite' };
  const cpu = where.filter((pl) => !pl.gpu);
  return cpu.length ? { kind: 'not-run', where: [...new Set(cpu.map((pl) => pl.where))] } : { kind: 'gpu', where: [...new Set(where.map((pl) => pl.where))] };
}

/** How the measured gains of a table's rows compare with the published ones in sign, and how many beyond seed noise. */
export function signSummary(rows: readonly SurveyRow[]): SignCounts {
  return signCounts(rows.flatMap((r) => r.measured
    .filter((m) => m.stats.gain !== null && r.published.gain !== null)
    .map((m) => ({ gain: m.stats.gain!, gainCi: m.stats.gainCi, published: r.published.gain! }))));
}

/** The sign summary in a sentence. */
export function signText(s: SignCounts): string {
  if (s.compared === 0) return 'No measured gain to compare yet.';
  const has = (n: number) => `${n} ${n === 1 ? 'has' : 'have'}`;
  return `Of ${s.compared} measured gain${s.compared === 1 ? '' : 's'}, ${has(s.agree)} the published sign (${s.agreeClear} with a 95% interval clear of zero) and ${s.against} the other (${s.againstClear} clear of zero).`;
}

/** A status in words (the table cell of a row nothing measured). */
export function statusText(s: SurveyStatus): string {
  switch (s.kind) {
    case 'measured': return 'measured';
    case 'not-implemented': return 'not implemented (the suite file\'s header says why)';
    case 'no-suite': return 'no suite pair runs it';
    case 'not-run': return `not run yet (${s.where.join(', ')})`;
    case 'gpu': return `GPU-sized pair, not run here (${s.where.join(', ')})`;
  }
}
