/** index.html: a card per leaderboard with its protocol, the family views, and every method page (those without results marked). */
import { esc, fmt, protocolBanner } from './html.js';
import { boardName, metricText, viewLinks } from './leaderboard-page.js';
import type { Leaderboard } from './leaderboard.js';
import { methodPageFile } from './method-pages.js';
import { viewFile, type FamilyView } from './views/index.js';
import type { Metric } from './types.js';

type MethodLink = { id: string; title: string; family: string };

function methodIndex(methods: readonly MethodLink[], measured: ReadonlySet<string>): string {
  if (methods.length === 0) return '';
  const without = methods.filter((m) => !measured.has(m.id)).length;
  const links = methods.map((m) => {
    const has = measured.has(m.id);
    return `<a href="${esc(methodPageFile(m.id))}"${has ? '' : ' class="no-results"'} title="${esc(`${m.title} (${m.family})${has ? '' : ': no results yet'}`)}">${esc(m.id)}</a>${has ? '' : '<sup class="muted small">–</sup>'}`;
  });
  return `<h2 id="methods">Methods</h2><p class="methods">${links.join(' · ')}</p>
<p class="small muted">${without ? `Grey with a dash: ${without} of ${methods.length} methods have no results on this site yet (their pages show the paper and hyperparameters).` : 'Every method has results on this site.'}</p>`;
}

function viewIndex(views: readonly FamilyView[]): string {
  if (views.length === 0) return '';
  return `<h2 id="family-views">Family views</h2><ul class="family-views">${views.map((v) => `<li><a href="${esc(viewFile(v))}">${esc(v.title)}</a>: ${esc(v.blurb)}</li>`).join('')}</ul>`;
}

export function indexBody(boards: readonly Leaderboard[], metric: Metric, methods: readonly MethodLink[] = [], views: readonly FamilyView[] = []): string {
  const measured = new Set(boards.flatMap((b) => b.stats.map((s) => s.method)));
  if (boards.length === 0) return `<h1>kdbench leaderboards</h1><p>No results yet. Run <code>npx kdbench run …</code>, then <code>npx kdbench report</code>.</p>${methodIndex(methods, measured)}`;
  const cards = boards.map((b) => {
    const top = b.stats.filter((s) => !s.reference).slice(0, 3).map((s) => `${esc(s.name)} ${fmt(s.mean)}`).join(', ');
    return `<div class="card" data-board="${esc(b.id)}"><h2 style="margin-top:0"><a href="${esc(b.id)}.html">${esc(boardName(b))}</a> <span class="small muted">${esc(b.trackInfo.title)}</span></h2>
${protocolBanner(b.protocol)}
<p>${b.stats.length} method/pair rows from ${b.rows.length} runs.${top ? ` Top: ${top}.` : ''}</p>${viewLinks(b)}</div>`;
  });
  return `<h1>kdbench leaderboards</h1>
<p>One leaderboard per dataset and protocol; data-free, lifelong and quantized methods rank on boards of their own. Accuracy is ${metricText(metric)}; means over seeds, with 95% Student-t intervals from 3 seeds on. Each protocol is stated on its page: a small CPU run is not the paper protocol.</p>
<div class="cards">${cards.join('\n')}</div>
<p>Published numbers with their sources: <a href="published.html">published.html</a>. Rows: <a href="results.csv">results.csv</a>, <a href="results.json">results.json</a>.</p>
${viewIndex(views)}
${methodIndex(methods, measured)}`;
}
