/**
 * The agreement box at the top of every leaderboard: per published table and pair, Kendall tau-b
 * with its bootstrap interval over seeds, the share of methods whose gain has the published sign,
 * and the published and measured orderings side by side.
 */
import type { Agreement, OrderedItem } from './agreement.js';
import { familyChip } from './colors.js';
import { esc, fmt } from './html.js';
import { standsInText } from './references.js';
import { MIN_SEEDS } from './stats.js';

function ordering(items: OrderedItem[], other: OrderedItem[], heading: string, cls: string): string {
  const otherRank = new Map(other.map((o, i) => [o.key, i + 1]));
  return `<div class="${cls}"><h3 class="small">${esc(heading)}</h3><ol>${items.map((o) => `<li data-method="${esc(o.method)}">${familyChip(o.family, false)}<strong>${esc(o.name)}</strong> ${fmt(o.value)}${o.n ? (o.n < MIN_SEEDS ? ` <span class="muted small">n=${o.n}</span>` : '') : ''} <span class="muted small">(#${otherRank.get(o.key)} ${cls === 'measured' ? 'published' : 'measured'})</span></li>`).join('')}</ol></div>`;
}

function entry(a: Agreement): string {
  const interval = a.tauInterval
    ? ` <span class="tau-interval">[${fmt(a.tauInterval[0])}, ${fmt(a.tauInterval[1])}]</span> <span class="small muted">95% bootstrap over seeds${a.minSeeds < MIN_SEEDS ? `, from ${a.minSeeds} seeds per method: a coarse interval` : ''}</span>`
    : ' <span class="small muted">(no interval: a method has one seed)</span>';
  const against = a.via
    ? `${esc(a.pair)} ${esc(standsInText(a.via, a.tableShort))} <span class="small muted">(declared in <code>${esc(a.via.declaredIn)}</code>)</span>`
    : `${esc(a.pair)}, the same pair in the ${esc(a.tableShort)}`;
  const clear = a.signAgreeClear || a.signDisagreeClear
    ? ` Beyond seed noise (the gain's 95% interval clear of zero): ${a.signAgreeClear} with the published sign, ${a.signDisagreeClear} against it.`
    : ' No gain\'s 95% interval over seeds is clear of zero.';
  const sign = a.signTotal
    ? `${a.signAgree} of ${a.signTotal} methods (${fmt((100 * a.signAgree) / a.signTotal, 0)}%) gain over the vanilla student with the published sign.${clear}`
    : 'No method has both a measured and a published gain.';
  return `<div class="entry" data-table="${esc(a.table)}" data-pair="${esc(a.pair)}">
<p>${against}.<br>Kendall tau-b <span class="tau">${fmt(a.tau)}</span>${interval} over ${a.n} methods (${a.concordant} concordant, ${a.discordant} discordant pairs). ${sign}</p>
<div class="orderings">${ordering(a.published, a.measured, `published: ${a.tableShort}, ${a.publishedPair}`, 'published')}${ordering(a.measured, a.published, `measured here: ${a.pair}`, 'measured')}</div>
</div>`;
}

export function agreementBox(agr: readonly Agreement[]): string {
  const body = agr.length
    ? agr.map(entry).join('\n')
    : `<p class="muted">No published table has two or more of this board's methods on its pairs, and no suite declares a reference pair for them (a suite pair's <code>reference: { table, teacher, student }</code> names the published pair it stands in for).</p>`;
  return `<section class="agreement" id="agreement"><h2>Agreement with the published results</h2>
${body}
<p class="small muted">Orderings compare ranks only: the published numbers come from their papers' protocols. Tau-b: 1 same order, −1 reversed. Its interval resamples each method's seeds with replacement (2,000 times). Gain sign: measured mean minus the vanilla student's, against the published distilled minus student accuracy; its interval is the Student-t interval of the per-seed differences from the vanilla student (3 or more seeds).</p></section>`;
}
