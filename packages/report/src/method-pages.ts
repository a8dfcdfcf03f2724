/**
 * One page per method (`method-<id>.html`), from the registry metadata: what it transfers (family,
 * knowledge, scheme, teacher), its paper, hyperparameters with defaults and their docs, deviations
 * from the paper, its results on every leaderboard with the published numbers beside them where a
 * published table has the method on that pair (or on the pair it stands in for), its learning
 * curves from the stored per-epoch history, every published row of the method, and its trend
 * over nightly runs. Leaderboards link here from each method cell.
 */
import { renderSvg } from './charts.js';
import { familyChip, familyColor } from './colors.js';
import type { ComparisonRow } from './compare.js';
import { esc, fmt, signed } from './html.js';
import { latestPerSeed, variantOf, type Leaderboard, type MethodStats } from './leaderboard.js';
import type { PublishedTable } from './published.js';
import { trackOf } from './tracks.js';
import type { MethodMeta, ReportRow } from './types.js';

export const methodPageFile = (id: string) => `method-${id.toLowerCase().replace(/[^a-z0-9_-]+/g, '-')}.html`;

function transfers(m: MethodMeta): string {
  return `<dl class="method-meta">
<dt>family</dt><dd class="family">${familyChip(m.family)}</dd>
<dt>knowledge</dt><dd class="knowledge">${esc(m.knowledge)}</dd>
<dt>scheme</dt><dd class="scheme">${esc(m.scheme)}</dd>
${m.teacher ? `<dt>teacher</dt><dd>${m.teacher === 'required' ? 'required' : 'none (trains without a teacher)'}</dd>` : ''}
</dl>`;
}

function paper(m: MethodMeta): string {
  if (!m.paper) return `<p class="paper muted">No paper: ${m.id === 'vanilla' ? 'the student trained from labels alone (the baseline of every gain).' : 'none recorded in the registry.'}</p>`;
  const p = m.paper;
  return `<p class="paper">${esc(p.authors)}, “${esc(p.title)}”, ${esc(p.venue)} ${esc(p.year)}. <a class="paper-link" href="${esc(p.url)}">${esc(p.url)}</a></p>`;
}

function hyperparameters(m: MethodMeta): string {
  const defaults = Object.entries(m.defaults ?? {});
  if (defaults.length === 0) return `<p class="muted">No hyperparameters.</p>`;
  const docs = (m.hyperDocs ?? {}) as Record<string, string>;
  return `<table id="hyperparameters"><thead><tr><th>name</th><th class="num">default</th><th>what it does</th></tr></thead><tbody>
${defaults.map(([k, v]) => `<tr data-hp="${esc(k)}"><td><code>${esc(k)}</code></td><td class="num">${esc(String(v))}</td><td>${esc(docs[k] ?? '')}</td></tr>`).join('\n')}
</tbody></table>
<p class="small muted">Override per run with <code>kdbench run … --hp ${esc(defaults.map(([k, v]) => `${k}=${v}`).join(','))}</code>, or per pair with <code>hp</code> in a suite.</p>`;
}

function results(id: string, boards: Leaderboard[], comparisons: Map<string, ComparisonRow[]>, tables: readonly PublishedTable[]): string {
  const title = new Map(tables.map((t) => [t.id, t.title]));
  const rows = boards.flatMap((b) => (comparisons.get(b.id) ?? []).filter((c) => c.stats.method === id).map((c) => {
    const { stats: s, published: p } = c;
    return `<tr data-board="${esc(b.id)}">
<td><a href="${esc(b.id)}.html#${esc(s.anchor)}">${esc(b.dataset)} · ${esc(b.protocol.protocol)}</a>${s.variant ? ` <span class="variant small">[${esc(s.variant)}]</span>` : ''}</td><td>${esc(s.pair)}</td><td class="num">${s.n}</td><td class="num">${fmt(s.mean)} ± ${fmt(s.std)}</td>
<td class="num">${s.ci ? `[${fmt(s.ci[0])}, ${fmt(s.ci[1])}]` : s.n > 1 ? `seeds ${s.values.map((v) => fmt(v)).join(' · ')}` : 'one seed'}</td><td class="num">${signed(s.gain)}</td>
<td class="num">${p ? fmt(p.distilledAcc) : '—'}</td><td class="num">${p ? signed(p.gain) : '—'}</td><td class="small">${p ? `${esc(title.get(p.table) ?? p.table)}${c.via ? ` <span class="stand-in">(stand-in for ${esc(c.via.publishedTeacher)} → ${esc(c.via.publishedStudent)})</span>` : ''}` : '<span class="muted">not in the published tables</span>'}</td></tr>`;
  }));
  if (rows.length === 0) return `<p class="muted">No measured results yet. Run <code>npx kdbench run --method ${esc(id)} --protocol smoke …</code> or a suite listing it, then <code>npx kdbench report</code>.</p>`;
  return `<div class="scroll"><table id="method-results" class="sortable"><thead><tr><th>leaderboard</th><th>pair</th><th class="num">seeds</th><th class="num">mean ± std</th><th class="num">95% CI (3+ seeds)</th><th class="num">gain vs vanilla</th><th class="num">distilled: published</th><th class="num">gain: published (computed)</th><th>published table</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table></div>
<p class="small muted">Measured under each leaderboard's protocol (stated on its page); published numbers under their papers' protocols.</p>`;
}

/** Per-candidate numbers of a search (`candidate_<i>_*`): shown on the NAS and graph views (ktg), not here. */
const PER_CANDIDATE = /^candidate_\d+_/;
/** Keys of counts and sizes (not accuracies): printed as integers. */
const COUNT_KEY = /(_bytes|macs|params|candidates|images_generated|wbits|abits|^searched_candidate)$/;

/** An extra number as its kind wants it: seconds with 1 decimal, counts and sizes as integers, accuracies with 2 decimals. */
export function formatExtra(key: string, value: number): string {
  if (key.endsWith('_seconds')) return fmt(value, 1);
  if (COUNT_KEY.test(key)) return fmt(Math.round(value), 0);
  return fmt(value);
}

function extraNumbers(id: string, boards: Leaderboard[]): string {
  const shown = (extras: MethodStats['extras']) => Object.entries(extras).filter(([k]) => !PER_CANDIDATE.test(k));
  const entries = boards.flatMap((b) => b.stats.filter((s) => s.method === id && shown(s.extras).length > 0).map((s) => ({ b, s })));
  if (entries.length === 0) return '';
  const rows = entries.flatMap(({ b, s }) => shown(s.extras).map(([k, v]) => `<tr><td>${esc(b.dataset)} · ${esc(b.protocol.protocol)}</td><td>${esc(s.name)}</td><td>${esc(s.pair)}</td><td><code>${esc(k)}</code></td><td class="num">${formatExtra(k, v.mean)}</td><td class="num">${v.n}</td></tr>`));
  return `<h2>Other numbers it reports</h2>
<p class="small muted">Accuracies of the method's other networks (peers, heads, generations, teachers), per-task accuracies (%, 2 decimals), sizes, counts and costs (integers; seconds with 1 decimal), as the method reports them after training: mean over seeds. Per-candidate numbers of a search are on the NAS and graph views.</p>
<div class="scroll"><table id="method-extras" class="sortable"><thead><tr><th>leaderboard</th><th>setting</th><th>pair</th><th>number</th><th class="num">mean</th><th class="num">seeds</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table></div>`;
}

function published(id: string, tables: readonly PublishedTable[]): string {
  const rows = tables.flatMap((t) => t.rows.filter((r) => r.methodId === id).map((r) => `<tr><td><a href="published.html#table-${esc(t.id)}">${esc(t.title)}</a></td><td>${esc(r.method)}</td>
<td>${esc(r.teacher)}${r.teacherId ? ` <span class="muted small">(${esc(r.teacherId)})</span>` : ''}</td><td>${esc(r.student)}${r.studentId ? ` <span class="muted small">(${esc(r.studentId)})</span>` : ''}</td>
<td class="num">${fmt(r.teacherAcc)}</td><td class="num">${fmt(r.studentAcc)}</td><td class="num">${fmt(r.distilledAcc)}</td><td class="num">${signed(r.gain)}</td></tr>`));
  if (rows.length === 0) return `<p class="muted">No published table of <code>benchmarks/published/</code> has this method.</p>`;
  return `<div class="scroll"><table id="method-published" class="sortable"><thead><tr><th>table</th><th>as published</th><th>teacher</th><th>student</th><th class="num">teacher acc</th><th class="num">student acc</th><th class="num">distilled acc</th><th class="num">gain (computed)</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table></div>`;
}

function trend(id: string, boards: Leaderboard[]): string {
  const points = boards.flatMap((b) => b.trend.filter((t) => t.method === id).map((t) => ({ board: b, t })));
  if (points.length === 0) return `<p class="muted">No runs yet.</p>`;
  return `<table id="method-trend"><thead><tr><th>leaderboard</th><th>run (date, commit)</th><th>pair</th><th class="num">mean</th><th class="num">runs</th></tr></thead><tbody>
${points.map(({ board: b, t }) => `<tr><td>${esc(b.dataset)} · ${esc(b.protocol.protocol)}</td><td>${esc(t.run)}</td><td>${esc(t.pair)}</td><td class="num">${fmt(t.mean)}</td><td class="num">${t.n}</td></tr>`).join('\n')}
</tbody></table>
<p class="small muted">One row per nightly run (date and commit) and pair; the trend chart of each leaderboard draws them.</p>`;
}

interface HistoryEntry {
  stage?: string;
  epoch?: number;
  eval?: { top1?: number };
}

function historyOf(r: ReportRow): HistoryEntry[] {
  try {
    const h = (JSON.parse(r.details) as { history?: unknown }).history;
    return Array.isArray(h) ? (h as HistoryEntry[]) : [];
  } catch {
    return [];
  }
}

/** Mean evaluation top-1 per network (stage) and epoch over the runs: 'student' for the main stage. */
export function learningCurve(runs: readonly ReportRow[]): { network: string; epoch: number; top1: number; n: number }[] {
  const by = new Map<string, number[]>();
  for (const r of runs) {
    for (const h of historyOf(r)) {
      if (typeof h.epoch !== 'number' || typeof h.eval?.top1 !== 'number') continue;
      const k = `${!h.stage || h.stage === 'main' ? 'student' : h.stage}\u0000${h.epoch}`;
      by.set(k, [...(by.get(k) ?? []), h.eval.top1]);
    }
  }
  return [...by].map(([k, v]) => {
    const [network, epoch] = k.split('\u0000') as [string, string];
    return { network, epoch: Number(epoch), top1: Math.round((v.reduce((a, b) => a + b, 0) / v.length) * 100) / 100, n: v.length };
  }).sort((a, b) => a.network.localeCompare(b.network) || a.epoch - b.epoch);
}

const GREYS = ['#6b6b6b', '#a0a0a0', '#3f3f3f', '#c4c4c4'];

async function learningCurves(m: MethodMeta, boards: Leaderboard[]): Promise<string> {
  const meta = new Map([[m.id, m]]);
  const figures: string[] = [];
  // a reference row copied onto another track's board (vanilla on the data-free board) is drawn once, on its own board
  for (const b of boards.filter((x) => x.track === trackOf(m.family))) {
    for (const s of b.stats.filter((x) => x.method === m.id)) {
      const runs = latestPerSeed(b.rows, meta).filter((r) => r.method === m.id && r.teacher === s.teacher && r.student === s.student && variantOf(r, meta) === s.variant);
      const curve = learningCurve(runs);
      if (curve.length < 2) continue;
      const networks = [...new Set(curve.map((c) => c.network))].sort((a, c) => (a === 'student' ? -1 : c === 'student' ? 1 : a.localeCompare(c)));
      const color = { field: 'network', type: 'nominal', title: 'network', scale: { domain: networks, range: networks.map((n, i) => (n === 'student' ? familyColor(m.family) : GREYS[(i - 1) % GREYS.length]!)) } } as const;
      const teacher = s.teacherTop1 === null ? [] : [{ mark: { type: 'rule', strokeDash: [5, 4], color: '#222' }, data: { values: [{ teacher: Math.round(s.teacherTop1 * 100) / 100 }] }, encoding: { y: { field: 'teacher', type: 'quantitative' }, tooltip: [{ field: 'teacher', title: `teacher ${s.teacher} (final)` }] } }];
      const svg = await renderSvg({
        width: 420, height: 200,
        layer: [
          { data: { values: curve }, mark: { type: 'line', point: { filled: true, size: 25 } }, encoding: { x: { field: 'epoch', type: 'quantitative', title: 'epoch (of its stage)', axis: { tickMinStep: 1 } }, y: { field: 'top1', type: 'quantitative', title: 'eval top-1 (%)', scale: { zero: false } }, color, tooltip: [{ field: 'network' }, { field: 'epoch' }, { field: 'top1' }, { field: 'n', title: 'seeds' }] } },
          ...teacher,
        ],
      } as never);
      const others = networks.filter((n) => n !== 'student');
      figures.push(`<figure class="chart learning-curve" data-board="${esc(b.id)}"><h3>${esc(b.dataset)} · ${esc(b.protocol.protocol)} · ${esc(s.name)} · ${esc(s.pair)}</h3>${svg}<figcaption>Evaluation top-1 after each epoch, mean over ${runs.length} seed${runs.length === 1 ? '' : 's'}: the student${others.length ? ` and the networks the run trains in stages of their own (${esc(others.join(', '))})` : ''}${s.teacherTop1 === null ? '' : `; dashed: the stored teacher ${esc(s.teacher)}'s final accuracy (the teacher store keeps no per-epoch history)`}.</figcaption></figure>`);
    }
  }
  if (figures.length === 0) return `<p class="muted">No per-epoch history in this method's rows.</p>`;
  return `<div class="charts">${figures.join('\n')}</div>`;
}

export async function methodPageBody(m: MethodMeta, boards: Leaderboard[], comparisons: Map<string, ComparisonRow[]>, tables: readonly PublishedTable[]): Promise<string> {
  return `<h1 class="method-title"><code>${esc(m.id)}</code> · ${esc(m.title)}</h1>
${paper(m)}
<h2>What it transfers</h2>
${transfers(m)}
<h2>Hyperparameters</h2>
${hyperparameters(m)}
<h2>Deviations from the paper</h2>
<p class="deviations">${m.deviations ? esc(m.deviations) : m.deviations === '' ? 'None: the implementation follows the paper.' : '<span class="muted">Not recorded.</span>'}</p>
<h2>Results</h2>
${results(m.id, boards, comparisons, tables)}
${extraNumbers(m.id, boards)}
<h2>Learning curves</h2>
${await learningCurves(m, boards)}
<h2>Published numbers</h2>
${published(m.id, tables)}
<h2>Trend</h2>
${trend(m.id, boards)}`;
}

/** Methods that get a page: every registered one, then methods seen only in the rows (minimal metadata). */
export function methodsWithPages(methods: readonly MethodMeta[], boards: Leaderboard[]): MethodMeta[] {
  const out = [...methods];
  const known = new Set(methods.map((m) => m.id));
  for (const b of boards) {
    for (const s of b.stats) {
      if (known.has(s.method)) continue;
      known.add(s.method);
      out.push({ id: s.method, title: s.title, family: s.family, knowledge: s.knowledge, scheme: s.scheme, paper: null } as MethodMeta);
    }
  }
  return out;
}
