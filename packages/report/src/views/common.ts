/**
 * What the family views share. A view works from result rows only (the report never imports a
 * family package): `row.family`, `row.method`, the run's resolved `hyperparameters` (JSON) and its
 * `details` (JSON: `extra` = the numbers the method reported, `artifacts` = files it wrote into its
 * run folder, `trainedStudent`). One section per leaderboard (dataset and protocol label) that has
 * rows of the view's family, each under that leaderboard's protocol banner.
 */
import { esc, fmt } from '../html.js';
import type { Leaderboard } from '../leaderboard.js';
import { summarize } from '../stats.js';
import type { MethodMeta, Metric, ReportRow } from '../types.js';

export interface ViewContext {
  boards: readonly Leaderboard[];
  meta: ReadonlyMap<string, MethodMeta>;
  metric: Metric;
  /** run_id -> artifact file name -> its path relative to the site (`artifacts/<run_id>/<name>`), for the files that were copied. */
  artifacts: ReadonlyMap<string, ReadonlyMap<string, string>>;
}

export interface FamilyView {
  /** Page id: the page is `<id>.html`. */
  id: string;
  /** The rows' `family` this view shows. */
  family: string;
  /** Page heading and the link text of the leaderboards. */
  title: string;
  /** One line: what the page shows. */
  blurb: string;
  /** The page body (the site wraps it in the page shell). */
  render(ctx: ViewContext): Promise<string>;
}

export const viewFile = (v: Pick<FamilyView, 'id'>) => `${v.id}.html`;

/**
 * Whether a leaderboard has rows of `family`: by the family the rows recorded or the one the registry
 * gives their method now (a method moved to another family keeps its recorded rows).
 */
export const hasFamily = (b: Leaderboard, family: string) => b.rows.some((r) => r.family === family) || b.stats.some((s) => s.family === family);

/** Leaderboards having at least one row of `family`. */
export const boardsWith = (boards: readonly Leaderboard[], family: string) => boards.filter((b) => hasFamily(b, family));

export function detailsOf(r: Pick<ReportRow, 'details'>): { extra: Record<string, number>; artifacts: string[]; trainedStudent: { id?: string; params?: number; flops?: number } | null } {
  let d: Record<string, unknown> = {};
  try {
    d = (JSON.parse(r.details) as Record<string, unknown>) ?? {};
  } catch {
    /* rows without JSON details */
  }
  const extra: Record<string, number> = {};
  const e = d.extra;
  if (e && typeof e === 'object') for (const [k, v] of Object.entries(e)) if (typeof v === 'number' && Number.isFinite(v)) extra[k] = v;
  const artifacts = Array.isArray(d.artifacts) ? d.artifacts.filter((a): a is string => typeof a === 'string') : [];
  const ts = d.trainedStudent;
  return { extra, artifacts, trainedStudent: ts && typeof ts === 'object' ? (ts as { id?: string; params?: number; flops?: number }) : null };
}

export const extraOf = (r: Pick<ReportRow, 'details'>) => detailsOf(r).extra;

export function hpOf(r: Pick<ReportRow, 'hyperparameters'>): Record<string, unknown> {
  if (!r.hyperparameters) return {};
  try {
    const hp = JSON.parse(r.hyperparameters) as unknown;
    return hp && typeof hp === 'object' ? (hp as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The hyperparameters as a canonical string (sorted keys), leaving out `omit`. */
export function hpKey(r: Pick<ReportRow, 'hyperparameters'>, omit: readonly string[] = []): string {
  const hp = hpOf(r);
  return JSON.stringify(Object.keys(hp).sort().filter((k) => !omit.includes(k)).map((k) => [k, hp[k]]));
}

/**
 * Hyperparameters differing from the method's registered defaults, as `k=v, k=v` (as the leaderboard
 * names variants), leaving out the ones a view shows in a column of its own (`omit`).
 */
export function variantName(r: Pick<ReportRow, 'method' | 'hyperparameters'>, meta: ReadonlyMap<string, MethodMeta>, omit: readonly string[] = []): string {
  const defaults = meta.get(r.method)?.defaults as Record<string, unknown> | undefined;
  if (!defaults) return '';
  const hp = hpOf(r);
  return Object.keys(hp).sort().filter((k) => !omit.includes(k) && k in defaults && String(hp[k]) !== String(defaults[k])).map((k) => `${k}=${String(hp[k])}`).join(', ');
}

export const methodName = (method: string, variant: string) => (variant ? `${method} [${variant}]` : method);

/**
 * The newest row of each (method, full hyperparameters, teacher, student, seed): nightly history is
 * summarised by its latest night, never pooled as seeds. Keyed by the full hyperparameters, so
 * settings (bit widths, modalities) stay apart even without method metadata.
 */
export function latestRows(rows: readonly ReportRow[]): ReportRow[] {
  const latest = new Map<string, ReportRow>();
  for (const r of rows) {
    const k = JSON.stringify([r.method, hpKey(r), r.teacher, r.student, r.seed]);
    const prev = latest.get(k);
    if (!prev || r.date >= prev.date) latest.set(k, r);
  }
  return [...latest.values()];
}

export interface Spread {
  n: number;
  mean: number | null;
  std: number | null;
}

/** Mean and sample std (null below 2 values) of the finite numbers among xs. */
export function spread(xs: readonly (number | null | undefined)[]): Spread {
  const v = xs.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  const s = summarize(v);
  return { n: v.length, mean: s.mean, std: s.std };
}

/** `mean ± std` (the leaderboard's convention: `± n/a` with one seed), `n/a` without values. */
export const pm = (s: Spread, d = 2) => (s.mean === null ? 'n/a' : `${fmt(s.mean, d)} ± ${fmt(s.std, d)}`);

export const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

/** The heading, back link and protocol banner of one leaderboard's section of a view. */
export function sectionHead(b: Leaderboard, banner: string): string {
  return `<h2 id="${esc(b.id)}"><a href="${esc(b.id)}.html">${esc(b.dataset)} · ${esc(b.protocol.protocol)}</a></h2>
${banner}`;
}

export function figure(id: string, title: string, svg: string, caption: string): string {
  return `<figure class="chart" id="${esc(id)}"><h3>${esc(title)}</h3>${svg}<figcaption>${esc(caption)}</figcaption></figure>`;
}

export const uniq = <T>(xs: readonly T[]) => [...new Set(xs)];
const idPart = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
/** An element id from parts (lowercase, dashes). */
export const elementId = (...parts: string[]) => parts.map(idPart).filter(Boolean).join('--');
