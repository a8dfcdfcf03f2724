/**
 * One page per method (`method-<id>.html`), from the registry metadata: what it transfers (family,
 * knowledge, scheme, teacher), its paper, hyperparameters with defaults and their docs, deviations
 * from the paper, its results on every leaderboard with the published numbers beside them where a
 * published table has the method on that pair, every published row of the method, and its trend
 * over nightly runs. Leaderboards link here from each method cell.
 */
import type { ComparisonRow } from './compare.js';
import { esc, fmt, signed } from './html.js';
import type { Leaderboard, MethodStats } from './leaderboard.js';
import type { PublishedTable } from './published.js';
import type { MethodMeta } from './types.js';

export const methodPageFile = (id: string) => `method-${id.toLowerCase().replace(/[^a-z0-9_-]+/g, '-')}.html`;

function transfers(m: MethodMeta): string {
  return `<dl class="method-meta">
<dt>family</dt><dd class="family">${esc(m.family)}</dd>
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
  const rows = boards.flatMap((b) => (comparisons.get(b.id) ?? []).filter((c) => c.stats.method === id).map(({ stats: s, published: p }) => `<tr data-board="${esc(b.id)}">
<td><a href="${esc(b.id)}.html#${esc(s.anchor)}">${esc(b.dataset)} · ${esc(b.protocol.protocol)}</a>${s.variant ? ` <span class="variant small">[${esc(s.variant)}]</span>` : ''}</td><td>${esc(s.pair)}</td><td class="num">${s.n}</td><td class="num">${fmt(s.mean)} ± ${fmt(s.std)}</td>
<td class="num">${s.ci ? `[${fmt(s.ci[0])}, ${fmt(s.ci[1])}]` : 'n/a'}</td><td class="num">${signed(s.gain)}</td>
<td class="num">${p ? fmt(p.distilledAcc) : '—'}</td><td class="num">${p ? signed(p.gain) : '—'}</td><td class="small">${p ? esc(title.get(p.table) ?? p.table) : '<span class="muted">not in the published tables</span>'}</td></tr>`));
  if (rows.length === 0) return `<p class="muted">No measured results yet. Run <code>npx kdbench run --method ${esc(id)} --protocol smoke …</code> or a suite listing it, then <code>npx kdbench report</code>.</p>`;
  return `<div class="scroll"><table id="method-results" class="sortable"><thead><tr><th>leaderboard</th><th>pair</th><th class="num">seeds</th><th class="num">mean ± std</th><th class="num">95% CI</th><th class="num">gain vs vanilla</th><th class="num">distilled: published</th><th class="num">gain: published (computed)</th><th>published table</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table></div>
<p class="small muted">Measured under each leaderboard's protocol (stated on its page); published numbers under their papers' protocols.</p>`;
}

/** Per-candidate numbers of a search (`candidate_<i>_*`): shown on the NAS view, not here. */
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
<p class="small muted">Accuracies of the method's other networks (peers, heads, generations, teachers), per-task accuracies (%, 2 decimals), sizes, counts and costs (integers; seconds with 1 decimal), as the method reports them after training: mean over seeds. Per-candidate numbers of a search are on the NAS view.</p>
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

export function methodPageBody(m: MethodMeta, boards: Leaderboard[], comparisons: Map<string, ComparisonRow[]>, tables: readonly PublishedTable[]): string {
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
