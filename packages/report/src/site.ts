/**
 * The static site: index.html (every leaderboard with its protocol), one page per dataset,
 * protocol and track (leaderboard-page.ts: agreement with the published tables, provenance,
 * leaderboard, charts, published beside measured), one page per method (method-<id>.html), published.html
 * (the published tables linked to their measured rows), one page per family view that has rows
 * (views/: quantized.html, lifelong.html, nas.html, cross-modal.html, data-free.html), survey.html
 * (the survey's Tables 5 and 6 row by row, published beside measured: survey-page.ts), and the rows
 * as results.csv/results.json. With `runsDir`, the runs' artifacts (details.artifacts) are copied to
 * artifacts/<run_id>/<name> for the views to show.
 * Self-contained: inline CSS, JS and SVG; opens from file:// without a server.
 */
import { copyFileSync, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { agreements as agreementsOf, type Agreement } from './agreement.js';
import { renderCharts } from './charts.js';
import { compare, settingVariants, type ComparisonRow } from './compare.js';
import { toCsv } from './csv.js';
import { page } from './html.js';
import { indexBody } from './index-page.js';
import { boardName, leaderboardBody } from './leaderboard-page.js';
import { buildLeaderboards, type Leaderboard } from './leaderboard.js';
import { methodPageBody, methodPageFile, methodsWithPages } from './method-pages.js';
import { publishedBody } from './published-page.js';
import type { PublishedTable } from './published.js';
import type { DeclaredSetting, PairReference, SuitePlacement } from './references.js';
import { SURVEY_PAGE, surveyBody } from './survey-page.js';
import { isSurveyTable, surveyRows } from './survey.js';
import type { MethodMeta, Metric, ReportRow } from './types.js';
import { detailsOf } from './views/common.js';
import { viewFile, viewsWithRows } from './views/index.js';

export interface SiteOptions {
  rows: readonly ReportRow[];
  methods?: readonly MethodMeta[];
  published?: readonly PublishedTable[];
  /** Reference pairs declared by the suites (a measured pair standing in for a published one). */
  references?: readonly PairReference[];
  /** Settings suites declare for their pairs (hp), compared with the pair's published rows. */
  settings?: readonly DeclaredSetting[];
  /** Where the suites run each method on each pair: survey.html says which pair would run a row not measured yet. */
  placements?: readonly SuitePlacement[];
  outDir: string;
  metric?: Metric;
  /** Shown in every page's top bar (default: now). */
  generatedAt?: string;
  /** Also write results.csv / results.json into this folder (beside the Arrow file). */
  exportDir?: string;
  /**
   * The results' `runs` folder (`<results>/runs`, one folder per run id): when given, every artifact a
   * row lists (details.artifacts) that exists there is copied to `<outDir>/artifacts/<run_id>/<name>`.
   */
  runsDir?: string;
}

export interface SiteResult {
  files: string[];
  leaderboards: Leaderboard[];
  comparisons: Map<string, ComparisonRow[]>;
  agreements: Map<string, Agreement[]>;
}

const SAFE_NAME = /^(?!\.\.?$)[A-Za-z0-9._-]+$/;

/**
 * Copies the artifacts the rows list from `runsDir/<run_id>/<name>` to `outDir/artifacts/<run_id>/<name>`
 * (names that are not plain file names, and files that are absent, are skipped); returns
 * run_id -> name -> path relative to the site.
 */
export function copyArtifacts(rows: readonly ReportRow[], runsDir: string, outDir: string): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  for (const r of rows) {
    if (!SAFE_NAME.test(r.run_id)) continue;
    for (const name of detailsOf(r).artifacts) {
      if (!SAFE_NAME.test(name)) continue;
      const from = join(runsDir, r.run_id, name);
      if (!existsSync(from) || !statSync(from).isFile()) continue;
      mkdirSync(join(outDir, 'artifacts', r.run_id), { recursive: true });
      copyFileSync(from, join(outDir, 'artifacts', r.run_id, name));
      if (!out.has(r.run_id)) out.set(r.run_id, new Map());
      out.get(r.run_id)!.set(name, `artifacts/${r.run_id}/${name}`);
    }
  }
  return out;
}

/** Writes results.csv and results.json of the rows into `dir`; returns their paths. */
export function exportRows(rows: readonly object[], dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const csv = join(dir, 'results.csv');
  const json = join(dir, 'results.json');
  writeFileSync(csv, toCsv(rows));
  writeFileSync(json, JSON.stringify(rows, null, 1) + '\n');
  return [csv, json];
}

export async function buildSite(o: SiteOptions): Promise<SiteResult> {
  const metric = o.metric ?? 'last_top1';
  const generatedAt = o.generatedAt ?? new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
  const tables = o.published ?? [];
  const boards = buildLeaderboards(o.rows, o.methods ?? [], metric);
  const declared = settingVariants(o.settings ?? [], new Map((o.methods ?? []).map((m) => [m.id, m])), tables);
  mkdirSync(o.outDir, { recursive: true });
  const files: string[] = [];
  const write = (name: string, text: string) => {
    writeFileSync(join(o.outDir, name), text);
    files.push(name);
  };
  const views = viewsWithRows(boards);
  const surveyTables = tables.filter(isSurveyTable);
  const artifacts = o.runsDir ? copyArtifacts(o.rows, o.runsDir, o.outDir) : new Map<string, Map<string, string>>();
  for (const [, names] of artifacts) for (const [, href] of names) files.push(href);
  const nav: [string, string][] = [
    ['index.html', 'Leaderboards'], ...boards.map((b): [string, string] => [`${b.id}.html`, boardName(b)]),
    ...views.map((v): [string, string] => [viewFile(v), v.id]), ...(surveyTables.length ? [[SURVEY_PAGE, 'Survey tables'] as [string, string]] : []),
    ['published.html', 'Published numbers'], ['results.csv', 'CSV'], ['results.json', 'JSON'],
  ];
  const comparisons = new Map<string, ComparisonRow[]>();
  const agreements = new Map<string, Agreement[]>();

  for (const b of boards) {
    const cmp = compare(b, tables, o.references ?? [], declared);
    const agr = agreementsOf(cmp, tables);
    comparisons.set(b.id, cmp);
    agreements.set(b.id, agr);
    const charts = await renderCharts(b);
    write(`${b.id}.html`, page({ title: `kdbench · ${boardName(b)} · ${b.protocol.label}`, nav, generatedAt, body: leaderboardBody(b, cmp, agr, charts, tables) }));
  }
  const viewContext = { boards, meta: new Map((o.methods ?? []).map((m) => [m.id, m])), metric, artifacts };
  for (const v of views) write(viewFile(v), page({ title: `kdbench · ${v.title}`, nav, generatedAt, body: await v.render(viewContext) }));
  const methodPages = methodsWithPages(o.methods ?? [], boards);
  for (const m of methodPages) {
    write(methodPageFile(m.id), page({ title: `kdbench · method ${m.id}`, nav, generatedAt, body: await methodPageBody(m, boards, comparisons, tables) }));
  }
  write('index.html', page({ title: 'kdbench leaderboards', nav, generatedAt, body: indexBody(boards, metric, methodPages, views) }));
  write('published.html', page({ title: 'kdbench · published numbers', nav, generatedAt, body: publishedBody(tables, boards, comparisons) }));
  if (surveyTables.length) {
    const implemented = new Set((o.methods ?? []).map((m) => m.id));
    const survey = surveyTables.map((table) => ({ table, rows: surveyRows(table, boards, comparisons, implemented, o.placements ?? []) }));
    write(SURVEY_PAGE, page({ title: 'kdbench · the survey\'s tables, measured', nav, generatedAt, body: await surveyBody(survey, boards) }));
  }
  exportRows(o.rows, o.outDir);
  files.push('results.csv', 'results.json');
  write('leaderboards.json', JSON.stringify(boards.map((b) => ({
    id: b.id, dataset: b.dataset, track: b.track, protocol: b.protocol, metric: b.metric, rankKind: b.rankKind, teachers: b.teachers,
    provenance: b.provenance, provenanceMix: b.provenanceMix, stats: b.stats, agreements: agreements.get(b.id),
  })), null, 1) + '\n');
  if (o.exportDir) exportRows(o.rows, o.exportDir);
  return { files, leaderboards: boards, comparisons, agreements };
}
