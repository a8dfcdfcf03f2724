/**
 * survey.html: the survey's Tables 5 and 6 as kdbench measures them (survey.ts), one table row per
 * published row: the published student -> distilled accuracies and gain beside the measured ones,
 * the measured gain with its 95% interval over seeds, both networks for online rows that print
 * their partner, and for a row nothing measured, why. A chart per table sets each measured gain
 * (with its interval) against the published one: a point above the diagonal gained more here than
 * in its paper, one in the upper-left or lower-right quadrant has the other sign.
 */
import { renderSvg } from './charts.js';
import { dv, esc, fmt, protocolBanner } from './html.js';
import { boardName, gainCell, measuredGainCell } from './leaderboard-page.js';
import { partnerAfter, type Leaderboard } from './leaderboard.js';
import type { PublishedTable } from './published.js';
import { signSummary, signText, statusText, type SurveyRow } from './survey.js';

export const SURVEY_PAGE = 'survey.html';

const SCHEME_COLORS: Record<string, string> = { offline: '#2457a6', online: '#c05a00', self: '#3c8d53' };

/** Published gain against measured gain, one point per measured row of the table, its 95% interval as a bar. */
export async function surveyChart(rows: readonly SurveyRow[]): Promise<string | null> {
  const points = rows.flatMap((r) => r.measured
    .filter((m) => m.stats.gain !== null && r.published.gain !== null)
    .map((m) => ({
      label: `${r.index} ${r.published.method}`,
      scheme: r.published.scheme ?? 'offline',
      published: r.published.gain!,
      measured: Math.round(m.stats.gain! * 100) / 100,
      lo: m.stats.gainCi?.[0] ?? null,
      hi: m.stats.gainCi?.[1] ?? null,
      n: m.stats.n,
    })));
  if (points.length === 0) return null;
  const schemes = [...new Set(points.map((p) => p.scheme))].sort();
  const color = { field: 'scheme', type: 'nominal', title: 'scheme', scale: { domain: schemes, range: schemes.map((s) => SCHEME_COLORS[s] ?? '#666') } } as const;
  const x = { field: 'published', type: 'quantitative', title: 'published gain (points; each paper\'s protocol)' } as const;
  // the diagonal over the published gains' range only: measured intervals are often far wider, and the x axis should spread the published gains
  const [min, max] = [Math.min(0, ...points.map((p) => p.published)), Math.max(0, ...points.map((p) => p.published))];
  return renderSvg({
    width: 520, height: 360,
    layer: [
      { data: { values: [{ v: 0 }] }, mark: { type: 'rule', color: '#999' }, encoding: { y: { field: 'v', type: 'quantitative' } } },
      { data: { values: [{ v: 0 }] }, mark: { type: 'rule', color: '#999' }, encoding: { x: { field: 'v', type: 'quantitative' } } },
      { data: { values: [{ a: min, b: min }, { a: max, b: max }] }, mark: { type: 'line', color: '#bbb', strokeDash: [4, 4] }, encoding: { x: { field: 'a', type: 'quantitative' }, y: { field: 'b', type: 'quantitative' } } },
      { data: { values: points.filter((p) => p.lo !== null) }, mark: { type: 'rule', strokeWidth: 2, opacity: 0.6 }, encoding: { x, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' }, color } },
      { data: { values: points }, mark: { type: 'point', filled: true, size: 60 }, encoding: { x, y: { field: 'measured', type: 'quantitative', title: 'measured gain (points; 95% interval over seeds)' }, color, tooltip: [{ field: 'label' }, { field: 'published' }, { field: 'measured' }, { field: 'n' }] } },
      { data: { values: points }, mark: { type: 'text', align: 'left', dx: 6, fontSize: 10, color: '#333' }, encoding: { x, y: { field: 'measured', type: 'quantitative' }, text: { field: 'label' } } },
    ],
  });
}

function counts(rows: readonly SurveyRow[]): string {
  const n = (k: SurveyRow['status']['kind']) => rows.filter((r) => r.status.kind === k).length;
  const parts = [`${n('measured')} measured`, `${n('not-run')} runnable here, not run yet`, `${n('gpu')} sized for GPU machines`, `${n('not-implemented')} not implemented`];
  if (n('no-suite')) parts.push(`${n('no-suite')} in no suite`);
  return `${rows.length} rows: ${parts.join(', ')}.`;
}

function rowHtml(r: SurveyRow): string {
  const p = r.published;
  const pair = `${p.teacher ? `${esc(p.teacher)} → ` : ''}${esc(p.student)}`;
  const head = `<td class="num">${r.index}</td><td>${esc(p.method)}${p.methodId ? ` <span class="muted small">(${esc(p.methodId)})</span>` : ''}</td><td>${esc(p.scheme ?? '')}</td><td>${pair}</td>
<td class="num" data-v="${dv(p.studentAcc)}">${fmt(p.studentAcc)} → ${fmt(p.distilledAcc)}</td>${gainCell(p)}<td class="num" data-v="${dv(p.distilledTeacherAcc)}">${p.distilledTeacherAcc === null ? '' : fmt(p.distilledTeacherAcc)}</td>`;
  if (r.measured.length === 0) {
    return `<tr class="unmeasured" data-status="${r.status.kind}" data-method="${esc(p.methodId ?? '')}">${head}<td colspan="5" class="small muted">${esc(statusText(r.status))}</td></tr>`;
  }
  return r.measured.map((m) => {
    const s = m.stats;
    const where = `<a href="${esc(m.board.id)}.html#${esc(s.anchor)}">${esc(s.name)}</a>${m.overrides ? ` <span class="small muted">[${esc(m.overrides)}]</span>` : ''}`;
    const vanilla = m.vanilla ? `${fmt(m.vanilla.mean)} <span class="small muted">n=${m.vanilla.n}</span>` : '—';
    const after = partnerAfter(s);
    return `<tr class="measured" data-status="measured" data-method="${esc(s.method)}">${head}<td>${where}</td><td class="num" data-v="${dv(m.vanilla?.mean)}">${vanilla}</td>
<td class="num" data-v="${dv(s.mean)}">${fmt(s.mean)} <span class="small muted">n=${s.n}</span></td>${measuredGainCell(s, p)}<td class="num" data-v="${dv(after?.mean)}">${after ? fmt(after.mean) : ''}</td></tr>`;
  }).join('\n');
}

/** The page body: per survey table, its counts, the gain chart and the row table. */
export async function surveyBody(tables: readonly { table: PublishedTable; rows: SurveyRow[] }[], boards: readonly Leaderboard[]): Promise<string> {
  const used = new Set(tables.flatMap((t) => t.rows.flatMap((r) => r.measured.map((m) => m.board))));
  const banners = boards.filter((b) => used.has(b) || b.track === 'main').map((b) => `<h3 class="small">${esc(boardName(b))}</h3>${protocolBanner(b.protocol)}`).join('\n')
    || '<p class="muted">No measured results.</p>';
  const sections = await Promise.all(tables.map(async ({ table, rows }) => {
    const svg = await surveyChart(rows);
    const chart = svg
      ? `<figure class="chart" id="chart-${esc(table.id)}"><h3>Gain: published against measured</h3>${svg}<figcaption>Each measured row of the table at its published gain (x) and its measured gain (y), with the measured gain's 95% interval over seeds. Dashed: equal gains; a point in the upper-left or lower-right quadrant gained with the other sign.</figcaption></figure>`
      : '<p class="muted">No row measured yet: no chart.</p>';
    return `<h2 id="${esc(table.id)}">${esc(table.title)}</h2>
<p class="small">Source: ${esc(table.source)}. ${esc(counts(rows))}</p>
<p class="signs">${esc(signText(signSummary(rows)))}</p>
<div class="charts">${chart}</div>
<div class="scroll"><table class="sortable survey" id="survey-${esc(table.id)}"><thead><tr><th class="num">#</th><th>method</th><th>scheme</th><th>pair (published)</th><th class="num">published: student → distilled</th><th class="num">gain: published</th><th class="num">partner after: published</th><th>measured (leaderboard row)</th><th class="num">student alone: measured</th><th class="num">distilled: measured</th><th class="num">gain: measured [95%]</th><th class="num">partner after: measured</th></tr></thead>
<tbody>
${rows.map(rowHtml).join('\n')}
</tbody></table></div>`;
  }));
  return `<h1>The survey's comparisons, measured</h1>
<p>Every row of Tables 5 (CIFAR-10) and 6 (CIFAR-100) of Gou et al., <em>Knowledge Distillation: A Survey</em> (IJCV 2021), beside what kdbench measured on the same method and pair. The published numbers come from each method's own paper and protocol; the measured ones from the protocol below, usually a reduced one, so compare gains (distilled minus the student alone) and their signs rather than accuracies. A measured gain's interval is the 95% Student-t interval of its per-seed differences from the vanilla student (3 seeds or more); a published gain outside it is marked. Online rows that print their partner network after training (DML, DCM, KDCL) show it measured too.</p>
${banners}
${sections.join('\n')}`;
}
