/**
 * published.html: every published table with its source and protocol, computed gains (printed
 * gains that disagree marked), and for each published row the measured rows it was matched to,
 * on the same pair or through a declared reference pair.
 */
import type { ComparisonRow } from './compare.js';
import { dv, esc, fmt, protocolBanner } from './html.js';
import { boardName, gainCell } from './leaderboard-page.js';
import type { Leaderboard } from './leaderboard.js';
import type { PublishedRow, PublishedTable } from './published.js';
import { trackOf } from './tracks.js';

function measuredLinks(boards: readonly Leaderboard[], comparisons: ReadonlyMap<string, ComparisonRow[]>): Map<PublishedRow, string[]> {
  const out = new Map<PublishedRow, string[]>();
  for (const b of boards) {
    for (const c of comparisons.get(b.id) ?? []) {
      if (!c.published || trackOf(c.stats.family) !== b.track) continue; // a reference copy (vanilla on the data-free board) links from its own board
      const via = c.via ? ` <span class="small muted">(${esc(c.stats.pair)}, stand-in)</span>` : '';
      const link = `<a class="measured" href="${esc(b.id)}.html#${esc(c.stats.anchor)}">${esc(boardName(b))}: ${fmt(c.stats.mean)}</a>${via}`;
      out.set(c.published, [...(out.get(c.published) ?? []), link]);
    }
  }
  return out;
}

export function publishedBody(tables: readonly PublishedTable[], boards: readonly Leaderboard[], comparisons: ReadonlyMap<string, ComparisonRow[]>): string {
  const measuredIn = measuredLinks(boards, comparisons);
  const banners = boards.length
    ? boards.filter((b) => b.track === 'main').map((b) => protocolBanner(b.protocol)).join('\n')
    : '<section class="protocol"><div class="label">Protocol: <strong>no measured results</strong></div></section>';
  const sections = tables.map((t) => {
    const mismatches = t.rows.filter((r) => r.gainMismatch).length;
    const linked = t.rows.filter((r) => measuredIn.has(r)).length;
    const rows = t.rows.map((r) => `<tr class="${r.gainMismatch ? 'gain-mismatch' : ''}" data-method="${esc(r.method)}"><td>${esc(r.scheme ?? '')}</td><td>${esc(r.method)}${r.methodId ? ` <span class="muted small">(${esc(r.methodId)})</span>` : ''}</td><td>${esc(r.knowledge ?? '')}</td>
<td>${esc(r.teacher)}${r.teacherId ? ` <span class="muted small">(${esc(r.teacherId)})</span>` : ''}</td><td class="num" data-v="${dv(r.teacherAcc)}">${fmt(r.teacherAcc)}</td>
<td>${esc(r.student)}${r.studentId ? ` <span class="muted small">(${esc(r.studentId)})</span>` : ''}</td><td class="num" data-v="${dv(r.studentAcc)}">${fmt(r.studentAcc)}</td><td class="num" data-v="${dv(r.distilledAcc)}">${fmt(r.distilledAcc)}</td>
<td class="num" data-v="${dv(r.gainPrinted)}">${fmt(r.gainPrinted)}</td>${gainCell(r)}<td class="small">${esc(r.note)}</td><td class="small">${(measuredIn.get(r) ?? []).join('<br>') || '<span class="muted">—</span>'}</td></tr>`);
    return `<h2 id="table-${esc(t.id)}">${esc(t.title)}</h2>
<p class="small">Source: ${esc(t.source)} (<code>benchmarks/published/${esc(t.file)}</code>). Protocol: ${esc(t.protocolNote)}. ${t.rows.length} rows, ${linked} with a measured counterpart${mismatches ? `; <span class="mismatch">${mismatches} printed gain${mismatches > 1 ? 's disagree' : ' disagrees'} with the row's own accuracies</span>` : ''}.</p>
<div class="scroll"><table class="sortable published" id="published-${esc(t.id)}"><thead><tr><th>scheme</th><th>method (kdbench id)</th><th>knowledge</th><th>teacher</th><th class="num">teacher acc</th><th>student</th><th class="num">student acc</th><th class="num">distilled acc</th><th class="num">gain printed</th><th class="num">gain computed</th><th>note</th><th>measured in kdbench</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table></div>`;
  });
  return `<h1>Published numbers</h1>
<p>Accuracies are top-1 in percent as printed by their sources, each under its own protocol. Gains are computed as distilled − student from the row's own accuracies; where the printed gain disagrees, the cell is marked ⚠. The last column links each published row to the measured rows it is compared with: the same method on the same pair, or on a pair a suite declares as its stand-in (marked).</p>
<h2>Measured results on this site were run under</h2>
${banners}
${sections.join('\n')}`;
}
