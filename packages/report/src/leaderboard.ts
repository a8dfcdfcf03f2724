/**
 * Leaderboards: rows grouped by dataset and protocol label (a label with overrides is a protocol
 * of its own) and by track (data-free, lifelong and quantized families rank on boards of their
 * own, tracks.ts), then by method and teacher/student pair, summarised over seeds: mean, std, the
 * 95% Student-t interval from 3 seeds on (clamped to [0, 100]; below 3 seeds the per-seed values
 * and their range), gain over the vanilla student of the same pair, the paired t-test against KD
 * with Holm's correction over the board, ranks (groups of overlapping intervals, or bootstrap rank
 * intervals below 3 seeds), and the provenance (commit, kernels) of every row.
 */
import { createHash } from 'node:crypto';
import { rankIntervals } from './bootstrap.js';
import { provenanceKey, provenanceMix, provenanceOf, provenanceSets, type ProvenanceSet } from './provenance.js';
import { holm, MIN_SEEDS, pairedBySeed, rankGroups, seedSummary, summarize, type PairedTest } from './stats.js';
import { TRACKS, trackOf, type Track, type TrackInfo } from './tracks.js';
import type { MethodMeta, Metric, ReportRow } from './types.js';
import { hpOf } from './views/common.js';

export interface ProtocolInfo {
  dataset: string;
  protocol: string;
  label: string;
  /** Evaluation split(s) and their descriptions, training images per class. */
  split: string[];
  trainPerClass: string[];
  epochs: number[];
  teacherEpochs: number[];
  widths: number[];
  /** Training images per run (details.trainImages, else images/s x train seconds / epochs run): distinct values, most runs first. */
  trainImages: number[];
  backends: string[];
  commits: string[];
  firstDate: string;
  lastDate: string;
  isPaper: boolean;
}

export interface MethodStats {
  /** Anchor id on the leaderboard page. */
  anchor: string;
  method: string;
  /** Hyperparameters that differ from the method's defaults (`wbits=4, abits=4`), '' for the default setting. */
  variant: string;
  /** The method id with its variant: what tables and charts print. */
  name: string;
  title: string;
  family: string;
  knowledge: string;
  scheme: string;
  teacher: string;
  student: string;
  /** `teacher -> student`, or the student alone for label-only runs. */
  pair: string;
  /**
   * The network a teacher-free method trains beside the student, where a hyperparameter names it
   * (PARTNER_KEYS: DML's, KDCL's and DCM's `peer`, '' meaning the student's architecture; Rocket's
   * `booster`); null otherwise. Published online rows print it in their teacher column.
   */
  partner: string | null;
  /** Pairs this row belongs to for filtering (a vanilla student belongs to every pair of its student). */
  pairs: string[];
  n: number;
  seeds: number[];
  /** Per-seed accuracies, in `seeds` order. */
  values: number[];
  mean: number;
  std: number | null;
  /** Half-width of the t-interval (unclamped); null below MIN_SEEDS seeds. */
  ciHalf: number | null;
  /** 95% Student-t interval clamped to [0, 100]; null below MIN_SEEDS seeds. */
  ci: [number, number] | null;
  /** [min, max] over the seeds. */
  range: [number, number];
  /** A reference row of its board (teacher-free baseline, bounds, full-precision students): shown first, not ranked. */
  reference: boolean;
  /** Rank among the board's ranked rows (null for references): see Leaderboard.rankKind. */
  rank: { point: number; lo: number; hi: number } | null;
  vanillaMean: number | null;
  /** mean - vanilla mean of the same student; null without vanilla runs. */
  gain: number | null;
  /**
   * 95% Student-t interval of the gain, paired by seed with the vanilla student (this - vanilla on
   * their common seeds): whether the gain is told apart from zero, and whether a published gain is
   * within what was measured. Null for vanilla itself and below MIN_SEEDS common seeds.
   */
  gainCi: [number, number] | null;
  /**
   * Paired t-test (this - KD) over seeds; null for KD itself or where no KD run of the pair exists.
   * `p` and `t` are null below MIN_SEEDS pairs; `pHolm` is p corrected for the board's number of tests.
   */
  vsKd: (PairedTest & { seeds: number[]; pHolm: number | null }) | null;
  /** Provenance tags (P1, P2, ...) of the board's provenance sets this row's runs come from. */
  provenance: string[];
  teacherTop1: number | null;
  studentFlops: number;
  studentParams: number;
  trainSeconds: number;
  imagesPerSecond: number;
  /**
   * Mean over the seeds of every number the method reported besides its student's accuracy (peers,
   * generations, heads, per-task accuracies, model bytes, search cost: the row's details.extra).
   */
  extras: Record<string, { mean: number; n: number }>;
}

export interface TrendPoint {
  method: string;
  pair: string;
  label: string;
  day: string;
  commit: string;
  /** `YYYY-MM-DD commit7`: one nightly run. */
  run: string;
  mean: number;
  n: number;
}

export interface TeacherStats {
  teacher: string;
  /** Mean final top-1 of the distinct stored teachers (by hash) the rows used. */
  mean: number;
  /** Number of distinct stored teachers. */
  n: number;
}

export interface Leaderboard {
  id: string;
  dataset: string;
  track: Track;
  trackInfo: TrackInfo;
  protocol: ProtocolInfo;
  metric: Metric;
  rows: ReportRow[];
  stats: MethodStats[];
  trend: TrendPoint[];
  /** How ranks are given: 'group' (every ranked row has >= 3 seeds), 'bootstrap' (>= 2 seeds), 'order' (a row with one seed). */
  rankKind: 'group' | 'bootstrap' | 'order';
  /** The stored teachers of the board's pairs (reference rows). */
  teachers: TeacherStats[];
  /** Distinct provenances of the rows, and what they mix (empty: one provenance). */
  provenance: ProvenanceSet[];
  provenanceMix: string[];
}

const uniq = <T>(xs: T[]) => [...new Set(xs)];
const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
export const pairLabel = (teacher: string, student: string) => (teacher ? `${teacher} → ${student}` : student);
export const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

/**
 * The hyperparameters of a run that differ from its method's registered defaults, as `k=v, k=v`
 * in key order ('' when none differ, when the row records no hyperparameters at all, or the method is unknown).
 * A default the row does not record (a hyperparameter added after the run, such as cc's `form`) is
 * a difference too, `k=(not recorded)`: the run may have trained otherwise, so it is never pooled
 * with runs of the current default. So is a run of an earlier revision of the method (a fix that
 * changed its numerics): `revision=N`, N the revision the row recorded (0 when none).
 */
export function variantOf(r: Pick<ReportRow, 'method' | 'hyperparameters'> & { details?: string }, meta: ReadonlyMap<string, MethodMeta>): string {
  const m = meta.get(r.method);
  if (!m) return '';
  const parts = [...hyperparameterDifferences(r.hyperparameters, m.defaults as Record<string, unknown> | undefined)];
  // only methods with a revision pay for reading the details
  const recorded = (m.revision ?? 0) > 0 ? recordedRevision(r.details) : m.revision;
  if (recorded !== m.revision) parts.push(['revision', String(recorded)]);
  return parts.sort(([a], [b]) => (a! < b! ? -1 : 1)).map(([k, v]) => `${k}=${v}`).join(', ');
}

function hyperparameterDifferences(recorded: string | undefined, defaults: Record<string, unknown> | undefined): string[][] {
  if (!recorded || !defaults) return [];
  let hp: Record<string, unknown>;
  try {
    hp = JSON.parse(recorded) as Record<string, unknown>;
  } catch {
    return [];
  }
  if (Object.keys(hp).length === 0) return [];
  const differ = Object.keys(hp).filter((k) => k in defaults && String(hp[k]) !== String(defaults[k])).map((k) => [k, String(hp[k])]);
  const unrecorded = Object.keys(defaults).filter((k) => !(k in hp)).map((k) => [k, '(not recorded)']);
  return [...differ, ...unrecorded];
}

/** The method revision a row's details record (0 when they record none, as rows before revisions did). */
function recordedRevision(details: string | undefined): number {
  try {
    const d = JSON.parse(details ?? '{}') as { revision?: unknown };
    return typeof d.revision === 'number' ? d.revision : 0;
  } catch {
    return 0;
  }
}

/**
 * The partner network's accuracy after online training, mean over seeds: DML's, DCM's and KDCL's
 * `peer1` (the student is peer 0), Rocket-KD's `booster`; null for other methods.
 */
export function partnerAfter(s: Pick<MethodStats, 'extras'>): { mean: number; n: number } | null {
  return s.extras.peer1 ?? s.extras.booster ?? null;
}

/** Hyperparameters that name the network trained beside a teacher-free student (see MethodStats.partner). */
export const PARTNER_KEYS = ['peer', 'booster'] as const;

/** The row's partner network: its recorded (or default) `peer`/`booster`, the student's architecture for an empty `peer`. */
export function partnerOf(r: Pick<ReportRow, 'method' | 'student' | 'teacher' | 'hyperparameters'>, meta: ReadonlyMap<string, MethodMeta>): string | null {
  const defaults = (meta.get(r.method)?.defaults ?? {}) as Record<string, unknown>;
  const key = PARTNER_KEYS.find((k) => k in defaults);
  if (r.teacher || !key) return null;
  const value = String(hpOf(r)[key] ?? defaults[key] ?? '');
  return value === '' ? (key === 'peer' ? r.student : null) : value;
}

const nameOf = (method: string, variant: string) => (variant ? `${method} [${variant}]` : method);

function protocolSettings(r: ReportRow): Record<string, unknown> {
  try {
    const d = JSON.parse(r.details) as { protocol?: Record<string, unknown> };
    return d.protocol ?? {};
  } catch {
    return {};
  }
}

/** Training images of a run: details.trainImages when recorded, else images/s x train seconds / epochs run (null when unknown). */
export function trainImagesOf(r: ReportRow): number | null {
  let d: { trainImages?: unknown; history?: unknown } = {};
  try {
    d = (JSON.parse(r.details) as typeof d) ?? {};
  } catch {
    return null;
  }
  if (typeof d.trainImages === 'number') return d.trainImages;
  const epochsRun = Array.isArray(d.history) ? d.history.length : 0;
  if (epochsRun === 0 || !(r.images_per_second > 0) || !(r.train_seconds > 0)) return null;
  return Math.round((r.images_per_second * r.train_seconds) / epochsRun);
}

export function protocolInfo(rows: ReportRow[]): ProtocolInfo {
  const settings = rows.map(protocolSettings);
  const images = rows.map(trainImagesOf).filter((x): x is number => x !== null);
  const dates = rows.map((r) => r.date).filter(Boolean).sort();
  return {
    dataset: rows[0]!.dataset,
    protocol: rows[0]!.protocol,
    label: rows[0]!.protocol_label,
    split: uniq(rows.map((r) => `${r.split}: ${r.split_description}`)),
    trainPerClass: uniq(settings.map((s) => (typeof s.trainPerClass === 'number' ? `${s.trainPerClass}/class` : 'all available'))),
    epochs: uniq(rows.map((r) => r.epochs)).sort((a, b) => a - b),
    teacherEpochs: uniq(settings.map((s) => s.teacherEpochs).filter((x): x is number => typeof x === 'number')).sort((a, b) => a - b),
    widths: uniq(settings.map((s) => s.widthFactor).filter((x): x is number => typeof x === 'number')).sort((a, b) => a - b),
    trainImages: uniq(images).sort((a, b) => images.filter((x) => x === b).length - images.filter((x) => x === a).length || a - b),
    backends: uniq(rows.map((r) => r.backend)).sort(),
    commits: uniq(rows.map((r) => r.git_commit)),
    firstDate: dates[0] ?? '',
    lastDate: dates[dates.length - 1] ?? '',
    isPaper: rows.every((r) => r.protocol === 'paper' && !r.protocol_label.includes('[overrides')),
  };
}

function leaderboardId(dataset: string, protocol: string, label: string): string {
  const base = `${slug(dataset)}-${slug(protocol)}`;
  return label.includes('[') ? `${base}-${createHash('sha256').update(label).digest('hex').slice(0, 6)}` : base;
}

function seedMap(rows: ReportRow[], metric: Metric): Map<number, number> {
  // A rerun of a seed replaces nothing here (the store already keeps one row per run id): average duplicates.
  const by = new Map<number, number[]>();
  for (const r of rows) by.set(r.seed, [...(by.get(r.seed) ?? []), r[metric]]);
  return new Map([...by].map(([s, v]) => [s, avg(v)]));
}

function extrasOf(rows: ReportRow[]): MethodStats['extras'] {
  const by = new Map<string, number[]>();
  for (const r of rows) {
    let extra: Record<string, unknown> = {};
    try {
      extra = (JSON.parse(r.details) as { extra?: Record<string, unknown> }).extra ?? {};
    } catch {
      /* rows without details */
    }
    for (const [k, v] of Object.entries(extra)) if (typeof v === 'number' && Number.isFinite(v)) by.set(k, [...(by.get(k) ?? []), v]);
  }
  return Object.fromEntries([...by].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, { mean: avg(v), n: v.length }]));
}

/** The 95% t-interval of a - b paired by seed; null below MIN_SEEDS common seeds or without b. */
function gainInterval(a: ReadonlyMap<number, number>, b: ReadonlyMap<number, number> | undefined): [number, number] | null {
  if (!b) return null;
  const common = [...a.keys()].filter((seed) => b.has(seed));
  return common.length < MIN_SEEDS ? null : summarize(common.map((seed) => a.get(seed)! - b.get(seed)!)).ci;
}

function methodStats(rows: ReportRow[], metric: Metric, meta: Map<string, MethodMeta>, info: TrackInfo, provenance: Map<string, string>): MethodStats[] {
  const groups = new Map<string, ReportRow[]>();
  for (const r of rows) {
    const k = `${nameOf(r.method, variantOf(r, meta))}|${r.teacher}|${r.student}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  const bySeed = new Map([...groups].map(([k, g]) => [k, seedMap(g, metric)]));
  const pairsOfStudent = new Map<string, string[]>();
  for (const r of rows) {
    if (r.teacher) pairsOfStudent.set(r.student, uniq([...(pairsOfStudent.get(r.student) ?? []), pairLabel(r.teacher, r.student)]));
  }
  const vanillaMean = (student: string) => {
    const v = bySeed.get(`vanilla||${student}`);
    return v && v.size ? avg([...v.values()]) : null;
  };
  const kdFor = (teacher: string, student: string): Map<number, number> | undefined => {
    if (teacher) return bySeed.get(`kd|${teacher}|${student}`);
    const kdPairs = [...bySeed.keys()].filter((k) => k.startsWith('kd|') && k.endsWith(`|${student}`));
    return kdPairs.length === 1 ? bySeed.get(kdPairs[0]!) : undefined;
  };
  const out: MethodStats[] = [];
  for (const [k, g] of groups) {
    const first = g[0]!;
    const seeds = bySeed.get(k)!;
    const seedList = [...seeds.keys()].sort((a, b) => a - b);
    const values = seedList.map((x) => seeds.get(x)!);
    const s = seedSummary(values);
    const vm = vanillaMean(first.student);
    const variant = variantOf(first, meta);
    const kd = first.method === 'kd' && !variant ? undefined : kdFor(first.teacher, first.student);
    const m = meta.get(first.method);
    const pair = pairLabel(first.teacher, first.student);
    const teacherTops = g.map((r) => r.teacher_top1).filter((x): x is number => typeof x === 'number');
    const paired = kd ? pairedBySeed(seeds, kd) : null;
    out.push({
      anchor: `method-${slug(first.method)}${variant ? `-${slug(variant)}` : ''}${first.teacher ? `--${slug(first.teacher)}` : ''}--${slug(first.student)}`,
      method: first.method,
      variant,
      name: nameOf(first.method, variant),
      title: m?.title ?? first.method,
      family: m?.family ?? first.family,
      knowledge: m?.knowledge ?? first.knowledge,
      scheme: m?.scheme ?? first.scheme,
      teacher: first.teacher,
      student: first.student,
      pair,
      partner: partnerOf(first, meta),
      pairs: first.teacher ? [pair] : [pair, ...(pairsOfStudent.get(first.student) ?? [])],
      n: values.length,
      seeds: seedList,
      values,
      mean: s.mean!,
      std: s.std,
      ciHalf: s.ciHalf,
      ci: s.ci,
      range: s.range!,
      reference: info.references.includes(first.method) && !variant,
      rank: null,
      vanillaMean: vm,
      gain: vm === null ? null : s.mean! - vm,
      gainCi: first.method === 'vanilla' && !variant ? null : gainInterval(seeds, bySeed.get(`vanilla||${first.student}`)),
      // below MIN_SEEDS pairs: the mean difference only, no test
      vsKd: paired ? { ...paired, ...(paired.n < MIN_SEEDS ? { t: null, p: null } : {}), pHolm: null } : null,
      teacherTop1: teacherTops.length ? avg(teacherTops) : null,
      studentFlops: first.student_flops,
      studentParams: first.student_params,
      trainSeconds: avg(g.map((r) => r.train_seconds)),
      imagesPerSecond: avg(g.map((r) => r.images_per_second)),
      extras: extrasOf(g),
      provenance: uniq(g.map((r) => provenance.get(provenanceKey(provenanceOf(r)))!)).sort((a, b) => Number(a.slice(1)) - Number(b.slice(1))),
    });
  }
  const adjusted = holm(out.map((x) => x.vsKd?.p ?? null));
  out.forEach((x, i) => {
    if (x.vsKd) x.vsKd.pHolm = adjusted[i]!;
  });
  return out.sort((a, b) => b.mean - a.mean || a.method.localeCompare(b.method));
}

/** Sets the ranks of the board's ranked (non-reference) rows and returns how they were given. */
function assignRanks(stats: MethodStats[]): Leaderboard['rankKind'] {
  const ranked = stats.filter((x) => !x.reference);
  if (ranked.length === 0) return 'order';
  if (ranked.every((x) => x.n >= MIN_SEEDS)) {
    rankGroups(ranked).forEach((r, i) => (ranked[i]!.rank = { point: r, lo: r, hi: r }));
    return 'group';
  }
  if (ranked.every((x) => x.n >= 2)) {
    const iv = rankIntervals(ranked.map((x) => x.values));
    ranked.forEach((x, i) => (x.rank = { point: i + 1, lo: iv[i]![0], hi: iv[i]![1] }));
    return 'bootstrap';
  }
  ranked.forEach((x, i) => (x.rank = { point: i + 1, lo: i + 1, hi: i + 1 }));
  return 'order';
}

/** The stored teachers of the rows: per teacher model, the mean final top-1 of its distinct stored entries. */
function teacherStats(rows: readonly ReportRow[]): TeacherStats[] {
  const by = new Map<string, Map<string, number>>();
  for (const r of rows) {
    if (!r.teacher || typeof r.teacher_top1 !== 'number') continue;
    const entries = by.get(r.teacher) ?? new Map<string, number>();
    entries.set(r.teacher_hash || `${r.teacher_top1}`, r.teacher_top1);
    by.set(r.teacher, entries);
  }
  return [...by].map(([teacher, e]) => ({ teacher, mean: avg([...e.values()]), n: e.size })).sort((a, b) => a.teacher.localeCompare(b.teacher));
}

function trend(rows: ReportRow[], metric: Metric, meta: ReadonlyMap<string, MethodMeta>): TrendPoint[] {
  const groups = new Map<string, ReportRow[]>();
  for (const r of rows) {
    const day = r.date.slice(0, 10);
    const k = `${nameOf(r.method, variantOf(r, meta))}|${r.teacher}|${r.student}|${day}|${r.git_commit}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  return [...groups.values()]
    .map((g) => {
      const r = g[0]!;
      const day = r.date.slice(0, 10);
      const pair = pairLabel(r.teacher, r.student);
      const name = nameOf(r.method, variantOf(r, meta));
      return {
        method: r.method, pair, label: `${name} (${pair})`, day, commit: r.git_commit,
        run: `${day} ${r.git_commit.slice(0, 7)}`, mean: avg(g.map((x) => x[metric])), n: g.length,
      };
    })
    .sort((a, b) => a.run.localeCompare(b.run) || a.label.localeCompare(b.label));
}

/**
 * The newest row of each (method variant, pair, seed): a results history (nightly runs
 * of the same grid) is summarised by its latest night, never pooled as if nights were seeds.
 */
export function latestPerSeed(rows: readonly ReportRow[], meta: ReadonlyMap<string, MethodMeta> = new Map()): ReportRow[] {
  const latest = new Map<string, ReportRow>();
  for (const r of rows) {
    const k = `${r.method}\u0000${variantOf(r, meta)}\u0000${r.teacher}\u0000${r.student}\u0000${r.seed}`;
    const prev = latest.get(k);
    if (!prev || r.date > prev.date) latest.set(k, r);
  }
  return [...latest.values()];
}

/**
 * The rows of each board of a (dataset, protocol label) group: the main track's rows, and for each
 * other track present its family's rows plus its reference methods from the main rows (same students).
 */
function trackRows(group: ReportRow[]): [Track, ReportRow[]][] {
  const by = new Map<Track, ReportRow[]>();
  for (const r of group) {
    const t = trackOf(r.family);
    by.set(t, [...(by.get(t) ?? []), r]);
  }
  const main = by.get('main') ?? [];
  return [...by].map(([t, rows]): [Track, ReportRow[]] => {
    if (t === 'main') return [t, rows];
    const students = new Set(rows.map((r) => r.student));
    const refs = main.filter((r) => TRACKS[t].references.includes(r.method) && students.has(r.student));
    return [t, [...rows, ...refs]];
  });
}

const TRACK_ORDER: Track[] = ['main', 'data-free', 'quantized', 'lifelong'];

/** One leaderboard per (dataset, protocol label, track), in dataset, protocol, then track order. */
export function buildLeaderboards(rows: readonly ReportRow[], methods: readonly MethodMeta[] = [], metric: Metric = 'last_top1'): Leaderboard[] {
  const meta = new Map(methods.map((m) => [m.id, m]));
  const groups = new Map<string, ReportRow[]>();
  for (const r of rows) {
    const k = `${r.dataset}\u0000${r.protocol}\u0000${r.protocol_label}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  const boards = [...groups.values()].flatMap((group) => trackRows(group).map(([track, g]): Leaderboard => {
    const info = protocolInfo(g);
    const latest = latestPerSeed(g, meta);
    const sets = provenanceSets(latest);
    const stats = methodStats(latest, metric, meta, TRACKS[track], new Map(sets.map((p) => [p.key, p.tag])));
    const rankKind = assignRanks(stats);
    const base = leaderboardId(info.dataset, info.protocol, info.label);
    return {
      id: track === 'main' ? base : `${base}-${track}`, dataset: info.dataset, track, trackInfo: TRACKS[track], protocol: info, metric, rows: g, stats,
      trend: trend(g, metric, meta), rankKind, teachers: TRACKS[track].teacherRow ? teacherStats(latest) : [], provenance: sets, provenanceMix: provenanceMix(sets),
    };
  }));
  const seen = new Set<string>();
  for (const b of boards) {
    if (seen.has(b.id)) b.id = `${b.id}-${createHash('sha256').update(b.protocol.label).digest('hex').slice(0, 6)}`;
    seen.add(b.id);
  }
  const order = ['paper', 'quick', 'smoke'];
  const rank = (p: string) => (order.includes(p) ? order.indexOf(p) : order.length);
  return boards.sort((a, b) => a.dataset.localeCompare(b.dataset) || rank(a.protocol.protocol) - rank(b.protocol.protocol)
    || a.protocol.label.localeCompare(b.protocol.label) || TRACK_ORDER.indexOf(a.track) - TRACK_ORDER.indexOf(b.track) || a.id.localeCompare(b.id));
}
