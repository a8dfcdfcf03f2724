/**
 * The static site: index.html (every leaderboard with its protocol), one page per dataset and
 * protocol (leaderboard, charts, published beside measured, rank agreement), one page per method
 * (method-<id>.html: metadata, hyperparameters, results, published numbers, trend), published.html (the
 * published tables with computed gains and mismatches), one page per family view that has rows
 * (views/: quantized.html, lifelong.html, nas.html, cross-modal.html, data-free.html), and the rows
 * as results.csv/results.json. With `runsDir`, the runs' artifacts (details.artifacts) are copied to
 * artifacts/<run_id>/<name> for the views to show.
 * Self-contained: inline CSS, JS and SVG; opens from file:// without a server.
 */
import { copyFileSync, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderCharts, type Chart } from './charts.js';
import { compare, rankAgreement, type ComparisonRow, type RankAgreement } from './compare.js';
import { toCsv } from './csv.js';
import { dv, esc, fmt, fmtP, page, protocolBanner, signed } from './html.js';
import { buildLeaderboards, type Leaderboard, type MethodStats } from './leaderboard.js';
import { methodPageBody, methodPageFile, methodsWithPages } from './method-pages.js';
import type { PublishedRow, PublishedTable } from './published.js';
import type { MethodMeta, Metric, ReportRow } from './types.js';
import { detailsOf } from './views/common.js';
import { viewFile, viewsOf, viewsWithRows, type FamilyView } from './views/index.js';

export interface SiteOptions {
  rows: readonly ReportRow[];
  methods?: readonly MethodMeta[];
  published?: readonly PublishedTable[];
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
  agreements: Map<string, RankAgreement[]>;
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

const metricText = (m: Metric) => (m === 'best_top1' ? 'top-1 accuracy at the best epoch (%)' : 'top-1 accuracy at the last epoch (%, CRD convention)');

export async function buildSite(o: SiteOptions): Promise<SiteResult> {
  const metric = o.metric ?? 'last_top1';
  const generatedAt = o.generatedAt ?? new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
  const tables = o.published ?? [];
  const boards = buildLeaderboards(o.rows, o.methods ?? [], metric);
  mkdirSync(o.outDir, { recursive: true });
  const files: string[] = [];
  const write = (name: string, text: string) => {
    writeFileSync(join(o.outDir, name), text);
    files.push(name);
  };
  const views = viewsWithRows(boards);
  const artifacts = o.runsDir ? copyArtifacts(o.rows, o.runsDir, o.outDir) : new Map<string, Map<string, string>>();
  for (const [, names] of artifacts) for (const [, href] of names) files.push(href);
  const nav: [string, string][] = [
    ['index.html', 'Leaderboards'], ...boards.map((b): [string, string] => [`${b.id}.html`, navLabel(b.dataset, b.protocol.protocol, b.protocol.label)]),
    ...views.map((v): [string, string] => [viewFile(v), v.id]), ['published.html', 'Published numbers'], ['results.csv', 'CSV'], ['results.json', 'JSON'],
  ];
  const comparisons = new Map<string, ComparisonRow[]>();
  const agreements = new Map<string, RankAgreement[]>();

  for (const b of boards) {
    const cmp = compare(b, tables);
    const agr = rankAgreement(cmp, tables);
    comparisons.set(b.id, cmp);
    agreements.set(b.id, agr);
    const charts = await renderCharts(b);
    write(`${b.id}.html`, page({ title: `kdbench · ${b.dataset} · ${b.protocol.label}`, nav, generatedAt, body: leaderboardBody(b, cmp, agr, charts, tables) }));
  }
  const viewContext = { boards, meta: new Map((o.methods ?? []).map((m) => [m.id, m])), metric, artifacts };
  for (const v of views) write(viewFile(v), page({ title: `kdbench · ${v.title}`, nav, generatedAt, body: await v.render(viewContext) }));
  const methodPages = methodsWithPages(o.methods ?? [], boards);
  for (const m of methodPages) {
    write(methodPageFile(m.id), page({ title: `kdbench · method ${m.id}`, nav, generatedAt, body: methodPageBody(m, boards, comparisons, tables) }));
  }
  write('index.html', page({ title: 'kdbench leaderboards', nav, generatedAt, body: indexBody(boards, metric, methodPages, views) }));
  write('published.html', page({ title: 'kdbench · published numbers', nav, generatedAt, body: publishedBody(tables, boards, comparisons) }));
  exportRows(o.rows, o.outDir);
  files.push('results.csv', 'results.json');
  write('leaderboards.json', JSON.stringify(boards.map((b) => ({ id: b.id, dataset: b.dataset, protocol: b.protocol, metric: b.metric, stats: b.stats, agreements: agreements.get(b.id) })), null, 1) + '\n');
  if (o.exportDir) exportRows(o.rows, o.exportDir);
  return { files, leaderboards: boards, comparisons, agreements };
}

/** The navigation entry of a leaderboard: `cifar10 · smoke`, with its overrides when it has some (`cifar10 · smoke (epochs=2)`). */
export function navLabel(dataset: string, protocol: string, label: string): string {
  const overrides = /\[overrides: (.*)\]$/.exec(label)?.[1];
  return `${dataset} · ${protocol}${overrides ? ` (${overrides})` : ''}`;
}

function methodIndex(methods: readonly { id: string; title: string; family: string }[]): string {
  if (methods.length === 0) return '';
  return `<h2 id="methods">Methods</h2><p class="methods">${methods.map((m) => `<a href="${esc(methodPageFile(m.id))}" title="${esc(`${m.title} (${m.family})`)}">${esc(m.id)}</a>`).join(' · ')}</p>`;
}

/** Links to the family views that have rows on leaderboard `b` (anchored at its section), or ''. */
function viewLinks(b: Leaderboard): string {
  const vs = viewsOf(b);
  if (vs.length === 0) return '';
  return `<p class="family-views">Family views: ${vs.map((v) => `<a class="family-view" href="${esc(viewFile(v))}#${esc(b.id)}" title="${esc(v.blurb)}">${esc(v.title)}</a>`).join(' · ')}</p>`;
}

function viewIndex(views: readonly FamilyView[]): string {
  if (views.length === 0) return '';
  return `<h2 id="family-views">Family views</h2><ul class="family-views">${views.map((v) => `<li><a href="${esc(viewFile(v))}">${esc(v.title)}</a>: ${esc(v.blurb)}</li>`).join('')}</ul>`;
}

function indexBody(boards: Leaderboard[], metric: Metric, methods: readonly { id: string; title: string; family: string }[] = [], views: readonly FamilyView[] = []): string {
  if (boards.length === 0) return `<h1>kdbench leaderboards</h1><p>No results yet. Run <code>npx kdbench run …</code>, then <code>npx kdbench report</code>.</p>${methodIndex(methods)}`;
  const cards = boards.map((b) => {
    const top = b.stats.slice(0, 3).map((s) => `${esc(s.name)} ${fmt(s.mean)}`).join(', ');
    return `<div class="card"><h2 style="margin-top:0"><a href="${esc(b.id)}.html">${esc(b.dataset)} · ${esc(b.protocol.protocol)}</a></h2>
${protocolBanner(b.protocol)}
<p>${b.stats.length} method/pair rows from ${b.rows.length} runs. Top: ${top}.</p>${viewLinks(b)}</div>`;
  });
  return `<h1>kdbench leaderboards</h1>
<p>One leaderboard per dataset and protocol. Accuracy is ${metricText(metric)}; means over seeds with 95% Student-t intervals. Each protocol is stated on its page: a small CPU run is not the paper protocol.</p>
<div class="cards">${cards.join('\n')}</div>
<p>Published numbers with their sources: <a href="published.html">published.html</a>. Rows: <a href="results.csv">results.csv</a>, <a href="results.json">results.json</a>.</p>
${viewIndex(views)}
${methodIndex(methods)}`;
}

function options(values: string[]): string {
  return ['<option value="">all</option>', ...[...new Set(values)].sort().map((v) => `<option value="${esc(v.toLowerCase())}">${esc(v)}</option>`)].join('');
}

function kdCell(s: MethodStats): string {
  if (s.method === 'kd') return `<td class="num muted" data-v="">reference</td>`;
  const t = s.vsKd;
  if (!t) return `<td class="num muted" data-v="">no KD run</td>`;
  if (t.p === null) return `<td class="num muted" data-v="" title="paired over seeds ${t.seeds.join(', ') || 'none'}">n/a (n=${t.n})</td>`;
  return `<td class="num" data-v="${dv(t.p)}" title="paired t-test over seeds ${t.seeds.join(', ')}; mean difference ${signed(t.meanDiff)}; t=${fmt(t.t, 3)}, df=${t.df}">${signed(t.meanDiff)}, n=${t.n}, p=${fmtP(t.p)}</td>`;
}

function leaderboardTable(b: Leaderboard): string {
  const rows = b.stats.map((s, i) => `<tr id="${esc(s.anchor)}" class="${s.method === 'kd' ? 'ref' : ''}" data-method="${esc(`${s.name} ${s.title}`)}" data-family="${esc(s.family)}" data-knowledge="${esc(s.knowledge)}" data-scheme="${esc(s.scheme)}" data-pair="${esc(s.pairs.join('|'))}">
<td class="num" data-v="${i + 1}">${i + 1}</td><td data-v="${esc(s.method)}"><a class="method-page" href="${esc(methodPageFile(s.method))}" title="${esc(s.title)}: method page (paper, hyperparameters, results)">${esc(s.method)}</a>${s.variant ? ` <span class="variant small">[${esc(s.variant)}]</span>` : ''}</td><td>${esc(s.family)}</td><td>${esc(s.knowledge)}</td><td>${esc(s.scheme)}</td><td>${esc(s.pair)}</td>
<td class="num" data-v="${s.n}">${s.n}</td><td class="num" data-v="${dv(s.mean)}">${fmt(s.mean)} ± ${fmt(s.std)}</td><td class="num" data-v="${dv(s.ci?.[0])}">${s.ci ? `[${fmt(s.ci[0])}, ${fmt(s.ci[1])}]` : 'n/a'}</td>
<td class="num" data-v="${dv(s.gain)}">${signed(s.gain)}</td>${kdCell(s)}<td class="num" data-v="${dv(s.teacherTop1)}">${fmt(s.teacherTop1)}</td>
<td class="num" data-v="${dv(s.studentFlops)}">${fmt(s.studentFlops / 1e6, 1)}</td><td class="num" data-v="${dv(s.trainSeconds)}">${fmt(s.trainSeconds, 0)}</td></tr>`);
  const pairs = b.stats.flatMap((s) => s.pairs);
  return `<div class="filters" data-table="leaderboard">
<label>method <input type="search" data-col="method" placeholder="filter"></label>
<label>family <select data-col="family">${options(b.stats.map((s) => s.family))}</select></label>
<label>knowledge <select data-col="knowledge">${options(b.stats.map((s) => s.knowledge))}</select></label>
<label>scheme <select data-col="scheme">${options(b.stats.map((s) => s.scheme))}</select></label>
<label>pair <select data-col="pair">${options(pairs)}</select></label>
<span class="count"></span></div>
<div class="scroll"><table id="leaderboard" class="sortable">
<thead><tr><th class="num">#</th><th>method</th><th>family</th><th>knowledge</th><th>scheme</th><th>pair (teacher → student)</th><th class="num">seeds</th><th class="num">mean ± std</th><th class="num">95% CI</th><th class="num">gain vs vanilla</th><th class="num">vs KD (paired t)</th><th class="num">teacher top-1</th><th class="num">student MMACs</th><th class="num">train s</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table></div>
<p class="small muted">mean ± std: over seeds (sample std, n−1). 95% CI: Student-t interval of the mean (n/a with one seed). Gain: mean minus the mean of the vanilla (label-only) runs of the same student. vs KD: paired t-test of this method against KD of the same pair over the seeds both ran, mean difference, n pairs and two-sided p (n/a below 2 pairs). Hover a cell for details.</p>`;
}

function gainCell(p: PublishedRow): string {
  if (p.gain === null) return `<td class="num" data-v="">${p.gainPrinted === null ? 'n/a' : `printed ${fmt(p.gainPrinted)}`}</td>`;
  if (p.gainMismatch) return `<td class="num mismatch" data-v="${p.gain}" title="printed gain ${fmt(p.gainPrinted)} disagrees with distilled − student = ${fmt(p.gain)}">${signed(p.gain)} ⚠ printed ${fmt(p.gainPrinted)}</td>`;
  return `<td class="num" data-v="${p.gain}">${signed(p.gain)}</td>`;
}

function comparisonTable(cmp: ComparisonRow[], tables: readonly PublishedTable[]): string {
  const title = new Map(tables.map((t) => [t.id, t.title]));
  const rows = cmp.map(({ stats: s, published: p }) => `<tr data-method="${esc(s.method)}" data-family="${esc(s.family)}" data-pair="${esc(s.pairs.join('|'))}" data-table="${esc(p?.table ?? '')}" class="${p ? 'matched' : 'unmatched'}">
<td><a class="method-page" href="${esc(methodPageFile(s.method))}" title="method page">${esc(s.name)}</a></td><td>${esc(s.pair)}</td><td>${p ? `${esc(title.get(p.table) ?? p.table)}${p.note ? `<div class="small muted">${esc(p.note)}</div>` : ''}` : '<span class="muted">not in the published tables</span>'}</td>
<td class="num" data-v="${dv(p?.teacherAcc)}">${p ? fmt(p.teacherAcc) : '—'}</td><td class="num" data-v="${dv(s.teacherTop1)}">${fmt(s.teacherTop1)}</td>
<td class="num" data-v="${dv(p?.studentAcc)}">${p ? fmt(p.studentAcc) : '—'}</td><td class="num" data-v="${dv(s.vanillaMean)}">${fmt(s.vanillaMean)}</td>
<td class="num" data-v="${dv(p?.distilledAcc)}">${p ? fmt(p.distilledAcc) : '—'}</td><td class="num" data-v="${dv(s.mean)}">${fmt(s.mean)}</td>
${p ? gainCell(p) : '<td class="num" data-v="">—</td>'}<td class="num" data-v="${dv(s.gain)}">${signed(s.gain)}</td></tr>`);
  return `<div class="scroll"><table id="published-vs-measured" class="sortable">
<thead><tr><th>method</th><th>pair (kdbench ids)</th><th>published table</th><th class="num">teacher: published</th><th class="num">teacher: measured</th><th class="num">student alone: published</th><th class="num">student alone: measured</th><th class="num">distilled: published</th><th class="num">distilled: measured</th><th class="num">gain: published (computed)</th><th class="num">gain: measured</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table></div>`;
}

function agreementTable(agr: RankAgreement[], tables: readonly PublishedTable[]): string {
  if (agr.length === 0) return `<p class="muted">No method of this leaderboard has a published number on the same dataset and pair: no rank agreement to compute.</p>`;
  const title = new Map(tables.map((t) => [t.id, t.title]));
  const rows = agr.map((a) => `<tr data-table="${esc(a.table)}"><td>${esc(title.get(a.table) ?? a.table)}</td><td>${a.pair === null ? '<em>all matched rows, pooled</em>' : esc(a.pair)}</td><td class="num">${a.n}</td><td class="num tau">${fmt(a.tau, 3)}</td>
<td class="small">${a.items.map((i) => `${esc(i.method)} ${fmt(i.published)} / ${fmt(i.measured)}`).join('; ')}</td></tr>`);
  return `<table id="rank-agreement"><thead><tr><th>published table</th><th>pair</th><th class="num">n methods</th><th class="num">Kendall tau-b</th><th>method published / measured</th></tr></thead><tbody>${rows.join('\n')}</tbody></table>
<p class="small muted">Kendall tau-b between the published and the measured ordering of the methods both have on the pair (1: same order, −1: reversed, n/a below 2 methods or when one ordering is all ties).</p>`;
}

function leaderboardBody(b: Leaderboard, cmp: ComparisonRow[], agr: RankAgreement[], charts: Chart[], tables: readonly PublishedTable[]): string {
  return `<h1>${esc(b.dataset)} · ${esc(b.protocol.protocol)} leaderboard</h1>
${protocolBanner(b.protocol, `<dt>accuracy</dt><dd>${metricText(b.metric)}</dd><dt>runs</dt><dd>${b.rows.length}</dd>`)}
<h2 id="leaderboard-heading">Leaderboard</h2>
${leaderboardTable(b)}
${viewLinks(b)}
<h2>Charts</h2>
<div class="charts">${charts.map((c) => `<figure class="chart" id="chart-${esc(c.id)}"><h3>${esc(c.title)}</h3>${c.svg}<figcaption>${esc(c.caption)}</figcaption></figure>`).join('\n')}</div>
<h2 id="published">Published beside measured</h2>
<p>Published numbers come from the paper protocols (full data, full widths, 240 epochs or each paper's own), <strong>not</strong> from the protocol above; see <a href="published.html">published.html</a> for the tables and their sources. Matched by method id and by teacher/student mapped to kdbench model ids.</p>
${comparisonTable(cmp, tables)}
<h3>Rank agreement</h3>
${agreementTable(agr, tables)}`;
}

function publishedBody(tables: readonly PublishedTable[], boards: Leaderboard[], comparisons: Map<string, ComparisonRow[]>): string {
  const measuredIn = new Map<PublishedRow, string[]>();
  for (const b of boards) {
    for (const c of comparisons.get(b.id) ?? []) {
      if (c.published) measuredIn.set(c.published, [...(measuredIn.get(c.published) ?? []), `<a href="${esc(b.id)}.html#${esc(c.stats.anchor)}">${esc(b.dataset)} · ${esc(b.protocol.protocol)}: ${fmt(c.stats.mean)}</a>`]);
    }
  }
  const banners = boards.length
    ? boards.map((b) => protocolBanner(b.protocol)).join('\n')
    : '<section class="protocol"><div class="label">Protocol: <strong>no measured results</strong></div></section>';
  const sections = tables.map((t) => {
    const mismatches = t.rows.filter((r) => r.gainMismatch).length;
    const rows = t.rows.map((r) => `<tr class="${r.gainMismatch ? 'gain-mismatch' : ''}" data-method="${esc(r.method)}"><td>${esc(r.scheme ?? '')}</td><td>${esc(r.method)}${r.methodId ? ` <span class="muted small">(${esc(r.methodId)})</span>` : ''}</td><td>${esc(r.knowledge ?? '')}</td>
<td>${esc(r.teacher)}${r.teacherId ? ` <span class="muted small">(${esc(r.teacherId)})</span>` : ''}</td><td class="num" data-v="${dv(r.teacherAcc)}">${fmt(r.teacherAcc)}</td>
<td>${esc(r.student)}${r.studentId ? ` <span class="muted small">(${esc(r.studentId)})</span>` : ''}</td><td class="num" data-v="${dv(r.studentAcc)}">${fmt(r.studentAcc)}</td><td class="num" data-v="${dv(r.distilledAcc)}">${fmt(r.distilledAcc)}</td>
<td class="num" data-v="${dv(r.gainPrinted)}">${fmt(r.gainPrinted)}</td>${gainCell(r)}<td class="small">${esc(r.note)}</td><td class="small">${(measuredIn.get(r) ?? []).join('<br>') || '<span class="muted">—</span>'}</td></tr>`);
    return `<h2 id="table-${esc(t.id)}">${esc(t.title)}</h2>
<p class="small">Source: ${esc(t.source)} (<code>benchmarks/published/${esc(t.file)}</code>). Protocol: ${esc(t.protocolNote)}. ${t.rows.length} rows${mismatches ? `; <span class="mismatch">${mismatches} printed gain${mismatches > 1 ? 's disagree' : ' disagrees'} with the row's own accuracies</span>` : ''}.</p>
<div class="scroll"><table class="sortable published" id="published-${esc(t.id)}"><thead><tr><th>scheme</th><th>method (kdbench id)</th><th>knowledge</th><th>teacher</th><th class="num">teacher acc</th><th>student</th><th class="num">student acc</th><th class="num">distilled acc</th><th class="num">gain printed</th><th class="num">gain computed</th><th>note</th><th>measured in kdbench</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table></div>`;
  });
  return `<h1>Published numbers</h1>
<p>Accuracies are top-1 in percent as printed by their sources, each under its own protocol. Gains are computed as distilled − student from the row's own accuracies; where the printed gain disagrees, the cell is marked ⚠.</p>
<h2>Measured results on this site were run under</h2>
${banners}
${sections.join('\n')}`;
}
