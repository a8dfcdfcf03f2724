/**
 * One leaderboard page: the protocol banner, the agreement with the published tables, the
 * provenance of the rows, the table (references first, then the ranked methods), the charts that
 * have something to show, and the published numbers beside the measured ones.
 */
import { agreementBox } from './agreement-box.js';
import type { Agreement } from './agreement.js';
import type { Chart } from './charts.js';
import { familyChip } from './colors.js';
import type { ComparisonRow } from './compare.js';
import { dv, esc, fmt, fmtP, protocolBanner, signed } from './html.js';
import { partnerAfter, type Leaderboard, type MethodStats } from './leaderboard.js';
import { methodPageFile } from './method-pages.js';
import { provenanceText } from './provenance.js';
import type { PublishedRow, PublishedTable } from './published.js';
import { standsInText } from './references.js';
import { MIN_SEEDS, outsideInterval } from './stats.js';
import type { Metric } from './types.js';
import { viewFile, viewsOf } from './views/index.js';

export const metricText = (m: Metric) => (m === 'best_top1' ? 'top-1 accuracy at the best epoch (%)' : 'top-1 accuracy at the last epoch (%, CRD convention)');

/** `cifar10 · quick` and, for a board of its own, its track (`cifar10 · quick · data-free`). */
/** The navigation entry of a leaderboard: `cifar10 · smoke`, with its overrides when it has some (`cifar10 · smoke (epochs=2)`). */
export function navLabel(dataset: string, protocol: string, label: string): string {
  const overrides = /\[overrides: (.*)\]$/.exec(label)?.[1];
  return `${dataset} · ${protocol}${overrides ? ` (${overrides})` : ''}`;
}

export const boardName = (b: Leaderboard) => `${navLabel(b.dataset, b.protocol.protocol, b.protocol.label)}${b.track === 'main' ? '' : ` · ${b.track}`}`;

/** Links to the family views that have rows on leaderboard `b` (anchored at its section), or ''. */
export function viewLinks(b: Leaderboard): string {
  const vs = viewsOf(b);
  if (vs.length === 0) return '';
  return `<p class="family-views">Family views: ${vs.map((v) => `<a class="family-view" href="${esc(viewFile(v))}#${esc(b.id)}" title="${esc(v.blurb)}">${esc(v.title)}</a>`).join(' · ')}</p>`;
}

function options(values: string[]): string {
  return ['<option value="">all</option>', ...[...new Set(values)].sort().map((v) => `<option value="${esc(v.toLowerCase())}">${esc(v)}</option>`)].join('');
}

const nMark = (n: number) => (n < MIN_SEEDS ? `<span class="nmark" title="fewer than ${MIN_SEEDS} seeds: no interval, no test">n=${n}</span>` : '');

function rankCell(s: MethodStats, b: Leaderboard): string {
  if (!s.rank) return `<td class="num muted" data-v="">ref</td>`;
  const r = s.rank;
  const text = b.rankKind === 'bootstrap' && r.lo !== r.hi ? `${r.lo}–${r.hi}` : String(r.lo);
  const why = b.rankKind === 'group' ? 'rank group: shared by the methods whose 95% interval overlaps the group leader\'s'
    : b.rankKind === 'bootstrap' ? `95% bootstrap interval of the rank over seeds (position by mean: ${r.point})` : 'position by mean (a row with one seed: ranks are not tested)';
  return `<td class="num" data-v="${r.point}" title="${esc(why)}">${text}</td>`;
}

function intervalCell(s: MethodStats): string {
  if (s.ci) return `<td class="num" data-v="${dv(s.ci[0])}" title="95% Student-t interval of the mean over ${s.n} seeds, clamped to [0, 100]">[${fmt(s.ci[0])}, ${fmt(s.ci[1])}]</td>`;
  const per = s.seeds.map((seed, i) => `seed ${seed}: ${fmt(s.values[i])}`).join('; ');
  if (s.n === 1) return `<td class="num muted" data-v="" title="${esc(per)}">one seed</td>`;
  return `<td class="num" data-v="${dv(s.range[0])}" title="${esc(per)}">${s.values.map((v) => fmt(v)).join(', ')}<span class="seeds">range ${fmt(s.range[1] - s.range[0])}</span></td>`;
}

function kdCell(s: MethodStats): string {
  if (s.method === 'kd' && !s.variant) return `<td class="num muted" data-v="">KD itself</td>`;
  const t = s.vsKd;
  if (!t) return `<td class="num muted" data-v="">no KD run</td>`;
  if (t.meanDiff === null) return `<td class="num muted" data-v="">no common seed</td>`;
  const seeds = `paired over seeds ${t.seeds.join(', ')}`;
  if (t.p === null) return `<td class="num" data-v="${dv(t.meanDiff)}" title="${esc(`${seeds}; fewer than ${MIN_SEEDS} pairs: no test`)}">${signed(t.meanDiff)} ${nMark(t.n)}</td>`;
  return `<td class="num" data-v="${dv(t.meanDiff)}" title="${esc(`${seeds}; paired t=${fmt(t.t, 3)}, df=${t.df}, p=${fmtP(t.p)} before correction`)}">${signed(t.meanDiff)}<span class="seeds">n=${t.n}, p<sub>Holm</sub>=${fmtP(t.pHolm)}</span></td>`;
}

function row(s: MethodStats, b: Leaderboard, showMacs: boolean): string {
  const prov = new Map(b.provenance.map((p) => [p.tag, p]));
  return `<tr id="${esc(s.anchor)}" class="${s.method === 'kd' ? 'ref' : ''}" data-method="${esc(`${s.name} ${s.title}`)}" data-family="${esc(s.family)}" data-knowledge="${esc(s.knowledge)}" data-scheme="${esc(s.scheme)}" data-pair="${esc(s.pairs.join('|'))}" data-provenance="${esc(s.provenance.join('|').toLowerCase())}">
${rankCell(s, b)}<td data-v="${esc(s.method)}"><a class="method-page" href="${esc(methodPageFile(s.method))}" title="${esc(s.title)}: method page (paper, hyperparameters, results)">${esc(s.method)}</a>${s.variant ? ` <span class="variant small">[${esc(s.variant)}]</span>` : ''}</td>
<td data-v="${esc(s.family)}">${familyChip(s.family)}<span class="seeds">${esc(s.knowledge)} · ${esc(s.scheme)}</span></td><td>${esc(s.pair)}</td>
<td class="num" data-v="${s.n}">${s.n}${nMark(s.n)}</td><td class="num" data-v="${dv(s.mean)}">${fmt(s.mean)} ± ${fmt(s.std)}</td>${intervalCell(s)}
${measuredGainCell(s, null)}${kdCell(s)}${showMacs ? `<td class="num" data-v="${dv(s.studentFlops)}">${fmt(s.studentFlops / 1e6, 1)}</td>` : ''}<td class="num" data-v="${dv(s.trainSeconds)}">${fmt(s.trainSeconds, 0)}</td>
<td data-v="${esc(s.provenance.join(' '))}">${s.provenance.map((t) => `<span class="ptag" title="${esc(provenanceText(prov.get(t)!))}">${esc(t)}</span>`).join('')}</td></tr>`;
}

function teacherRows(b: Leaderboard, columns: number): string {
  return b.teachers.map((t) => `<tr class="teacher" data-teacher="${esc(t.teacher)}"><td class="num muted">ref</td><td colspan="4">teacher <strong>${esc(t.teacher)}</strong> <span class="muted small">(stored teacher${t.n > 1 ? `s: ${t.n}` : ''}, final epoch)</span></td>
<td class="num">${fmt(t.mean)}</td><td colspan="${columns - 6}"></td></tr>`).join('\n');
}

const RANK_HEAD: Record<Leaderboard['rankKind'], string> = { group: 'rank group', bootstrap: 'rank<br>(95% bootstrap)', order: '#' };

function tests(b: Leaderboard): string {
  const n = b.stats.filter((s) => s.vsKd?.p !== null && s.vsKd?.p !== undefined).length;
  return n === 0 ? `none here: no method has ${MIN_SEEDS} seeds in common with KD` : `${n}`;
}

function table(b: Leaderboard): string {
  const macs = new Set(b.stats.map((s) => s.studentFlops));
  const showMacs = macs.size > 1;
  const refs = b.stats.filter((s) => s.reference);
  const ranked = b.stats.filter((s) => !s.reference);
  const columns = 11 + (showMacs ? 1 : 0);
  const pairs = b.stats.flatMap((s) => s.pairs);
  const constant = showMacs ? '' : ` Every row's student runs at ${fmt([...macs][0]! / 1e6, 1)} MMACs per image.`;
  return `<div class="filters" data-table="leaderboard">
<label>method <input type="search" data-col="method" placeholder="filter"></label>
<label>family <select data-col="family">${options(b.stats.map((s) => s.family))}</select></label>
<label>knowledge <select data-col="knowledge">${options(b.stats.map((s) => s.knowledge))}</select></label>
<label>scheme <select data-col="scheme">${options(b.stats.map((s) => s.scheme))}</select></label>
<label>pair <select data-col="pair">${options(pairs)}</select></label>
<label>provenance <select data-col="provenance">${options(b.provenance.map((p) => p.tag))}</select></label>
<span class="count"></span></div>
<div class="scroll"><table id="leaderboard" class="sortable">
<thead><tr><th class="num rank">${RANK_HEAD[b.rankKind]}</th><th>method</th><th>family</th><th>pair (teacher → student)</th><th class="num">seeds</th><th class="num">mean ± std</th><th class="num">95% CI, or seeds (n&lt;${MIN_SEEDS})</th><th class="num">gain vs vanilla [95%]</th><th class="num">vs KD (paired, Holm)</th>${showMacs ? '<th class="num">student MMACs</th>' : ''}<th class="num">train s</th><th>prov.</th></tr></thead>
<tbody class="refs">
${teacherRows(b, columns)}
${refs.map((s) => row(s, b, showMacs)).join('\n')}
</tbody>
<tbody>
${ranked.map((s) => row(s, b, showMacs)).join('\n')}
</tbody></table></div>
<p class="small muted">References first (not ranked), then the methods by mean. mean ± std: over seeds (sample std, n−1). 95% CI: Student-t interval of the mean from ${MIN_SEEDS} seeds on, clamped to [0, 100]; with fewer seeds the per-seed values and their range, marked n=2 or n=1. Rank: ${b.rankKind === 'group' ? 'methods whose intervals overlap the leader\'s share its rank, then the same among the rest' : b.rankKind === 'bootstrap' ? 'the 95% interval of the rank over 2,000 resamples of each method\'s seeds' : 'position by mean (a row has one seed: no rank interval)'}. Gain: mean minus the mean of the vanilla (label-only) runs of the same student. vs KD: mean difference to KD of the same pair over the seeds both ran; from ${MIN_SEEDS} pairs a paired t-test, its p corrected with Holm's method for the number of tests on this board (${tests(b)}); sort the column to order by difference.${constant} prov.: provenance set of the runs (below the banner). Hover a cell for details.</p>`;
}

/** Under the banner when the rows mix provenances: what they mix, and where the sets are listed. */
function provenanceWarning(b: Leaderboard): string {
  if (b.provenanceMix.length === 0) return '';
  return `<p class="warnbox" id="provenance-warning">⚠ This board mixes ${esc(b.provenanceMix.join('; '))}. Differences between rows may come from the code or the kernels, not only the method: each row names its <a href="#provenance">provenance set</a>, and the table filters by it.</p>`;
}

function provenanceSection(b: Leaderboard): string {
  const rows = b.provenance.map((p) => `<tr data-tag="${esc(p.tag)}"><td><span class="ptag">${esc(p.tag)}</span></td><td><code>${esc(p.commit)}</code></td><td>${p.dirty ? `yes${p.diff ? ` (diff ${esc(p.diff)})` : ' <span class="muted">(which changes: not recorded)</span>'}` : 'no'}</td><td>${esc(p.backend)}</td><td>${esc(p.kernels)}</td><td class="num">${p.runs}</td></tr>`);
  return `<h2 id="provenance">Provenance</h2>
<p class="small muted">The commit each run was trained from, whether the checkout had uncommitted changes, the TensorFlow.js backend and the kernels (native OpenBLAS kernels or not).</p>
<table id="provenance-sets"><thead><tr><th>set</th><th>commit</th><th>uncommitted changes</th><th>backend</th><th>kernel set</th><th class="num">runs</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

export function gainCell(p: PublishedRow): string {
  if (p.gain === null) return `<td class="num" data-v="">${p.gainPrinted === null ? 'n/a' : `printed ${fmt(p.gainPrinted)}`}</td>`;
  if (p.gainMismatch) return `<td class="num mismatch" data-v="${p.gain}" title="printed gain ${fmt(p.gainPrinted)} disagrees with distilled − student = ${fmt(p.gain)}">${signed(p.gain)} ⚠ printed ${fmt(p.gainPrinted)}</td>`;
  return `<td class="num" data-v="${p.gain}">${signed(p.gain)}</td>`;
}

/**
 * The teacher columns. An online row whose table prints its partner network after online training
 * (DML, DCM, KDCL: "teacher then student") shows it after an arrow, published and measured
 * (`partnerAfter`: the run's `peer1` accuracy).
 */
function teacherCells(s: MethodStats, p: PublishedRow | null): string {
  const publishedAfter = p?.distilledTeacherAcc ?? null;
  const measuredAfter = partnerAfter(s)?.mean ?? null;
  if (publishedAfter === null) return `<td class="num" data-v="${dv(p?.teacherAcc)}">${p ? fmt(p.teacherAcc) : '—'}</td><td class="num" data-v="${dv(s.teacherTop1)}">${fmt(s.teacherTop1)}</td>`;
  const title = 'the partner network alone, then after online training';
  return `<td class="num" data-v="${dv(publishedAfter)}" title="${title}">${fmt(p!.teacherAcc)} → ${fmt(publishedAfter)}</td>`
    + `<td class="num" data-v="${dv(measuredAfter)}" title="the partner network after online training (peer1)">${measuredAfter === null ? '—' : `→ ${fmt(measuredAfter)}`}</td>`;
}

/**
 * The measured gain with its 95% interval over seeds (paired with the vanilla student), marked
 * where the published gain lies outside it.
 */
export function measuredGainCell(s: MethodStats, p: PublishedRow | null): string {
  if (!s.gainCi) return `<td class="num" data-v="${dv(s.gain)}">${signed(s.gain)}</td>`;
  const [lo, hi] = s.gainCi;
  const outside = outsideInterval(p?.gain ?? null, s.gainCi);
  const title = `gain over the vanilla student; 95% interval over ${s.n} seeds, paired by seed${outside ? '; the published gain is outside it' : p?.gain != null ? '; the published gain is inside it' : ''}`;
  return `<td class="num${outside ? ' gain-outside' : ''}" data-v="${dv(s.gain)}" title="${title}">${signed(s.gain)}<div class="small muted gain-ci">[${signed(lo)}, ${signed(hi)}]</div></td>`;
}

function comparisonTable(b: Leaderboard, cmp: ComparisonRow[], tables: readonly PublishedTable[]): string {
  const title = new Map(tables.map((t) => [t.id, t.title]));
  const short = new Map(tables.map((t) => [t.id, t.short]));
  const rows = cmp.map(({ stats: s, published: p, via, declaredIn }) => {
    const where = p
      ? `${esc(title.get(p.table) ?? p.table)}${via ? `<div class="small stand-in">${esc(standsInText(via, short.get(p.table) ?? p.table))}</div>` : ''}${declaredIn ? `<div class="small muted">the pair's setting in ${esc(declaredIn)}</div>` : ''}${p.dataset !== b.dataset ? `<div class="small muted">published on ${esc(p.dataset)}</div>` : ''}${p.note ? `<div class="small muted">${esc(p.note)}</div>` : ''}`
      : '<span class="muted">not in the published tables</span>';
    return `<tr data-method="${esc(s.method)}" data-family="${esc(s.family)}" data-pair="${esc(s.pairs.join('|'))}" data-table="${esc(p?.table ?? '')}" class="${p ? 'matched' : 'unmatched'}">
<td><a class="method-page" href="${esc(methodPageFile(s.method))}" title="method page">${esc(s.name)}</a></td><td>${esc(s.pair)}</td><td class="small">${where}</td>
${teacherCells(s, p)}
<td class="num" data-v="${dv(p?.studentAcc)}">${p ? fmt(p.studentAcc) : '—'}</td><td class="num" data-v="${dv(s.vanillaMean)}">${fmt(s.vanillaMean)}</td>
<td class="num" data-v="${dv(p?.distilledAcc)}">${p ? fmt(p.distilledAcc) : '—'}</td><td class="num" data-v="${dv(s.mean)}">${fmt(s.mean)}</td>
${p ? gainCell(p) : '<td class="num" data-v="">—</td>'}${measuredGainCell(s, p)}</tr>`;
  });
  return `<div class="scroll"><table id="published-vs-measured" class="sortable">
<thead><tr><th>method</th><th>pair (kdbench ids)</th><th>published table</th><th class="num">teacher: published</th><th class="num">teacher: measured</th><th class="num">student alone: published</th><th class="num">student alone: measured</th><th class="num">distilled: published</th><th class="num">distilled: measured</th><th class="num">gain: published (computed)</th><th class="num">gain: measured</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table></div>`;
}

function charts(list: Chart[]): string {
  if (list.length === 0) return `<p class="muted">No chart: this board has a single row.</p>`;
  return `<div class="charts">${list.map((c) => `<figure class="chart" id="chart-${esc(c.id)}"><h3>${esc(c.title)}</h3>${c.svg}<figcaption>${esc(c.caption)}</figcaption></figure>`).join('\n')}</div>`;
}

export function leaderboardBody(b: Leaderboard, cmp: ComparisonRow[], agr: Agreement[], chartList: Chart[], tables: readonly PublishedTable[]): string {
  return `<h1>${esc(b.dataset)} · ${esc(b.protocol.protocol)} ${esc(b.trackInfo.title)}</h1>
<p class="track-blurb">${esc(b.trackInfo.blurb)}</p>
${protocolBanner(b.protocol, `<dt>accuracy</dt><dd>${metricText(b.metric)}</dd><dt>runs</dt><dd>${b.rows.length}</dd>`)}
${provenanceWarning(b)}
${agreementBox(agr)}
<h2 id="leaderboard-heading">Leaderboard</h2>
${table(b)}
${viewLinks(b)}
${provenanceSection(b)}
<h2>Charts</h2>
${charts(chartList)}
<h2 id="published">Published beside measured</h2>
<p>Published numbers come from the paper protocols (full data, full widths, 240 epochs or each paper's own), <strong>not</strong> from the protocol above; see <a href="published.html">published.html</a> for the tables and their sources. Matched by method id and by teacher/student mapped to kdbench model ids, or through a reference pair a suite declares.</p>
${comparisonTable(b, cmp, tables)}`;
}
