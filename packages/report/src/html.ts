/** HTML pieces of the site: escaping, number formats, the page shell with its inline CSS and JS, the protocol banner. */
import type { ProtocolInfo } from './leaderboard.js';

export function esc(s: unknown): string {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export const fmt = (x: number | null | undefined, d = 2): string => (x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(d));
export const signed = (x: number | null | undefined, d = 2): string => (x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(d)}`);
export const fmtP = (p: number | null): string => (p === null ? 'n/a' : p < 0.001 ? '<0.001' : p.toFixed(3));
/** data-v attribute for sorting: a number, or empty (sorted last). */
export const dv = (x: number | null | undefined): string => (x === null || x === undefined || !Number.isFinite(x) ? '' : String(x));

const CSS = `
:root{--fg:#1d232a;--muted:#5b6570;--line:#d9dee3;--bg:#fff;--accent:#2457a6;--warn:#8a4b00;--warnbg:#fff4e0;--okbg:#e9f6ec;--bad:#b00020}
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:var(--fg);background:var(--bg)}
header.top{padding:10px 24px;border-bottom:1px solid var(--line);display:flex;gap:18px;align-items:baseline;flex-wrap:wrap}
header.top .brand{font-weight:700;font-size:16px}header.top a{color:var(--accent);text-decoration:none}
main{padding:16px 24px}h1{font-size:22px;margin:8px 0 12px}h2{font-size:18px;margin:28px 0 8px}h3{font-size:15px;margin:18px 0 6px}
.protocol{border:2px solid #c98a2b;background:var(--warnbg);border-radius:6px;padding:10px 14px;margin:8px 0 16px}
.protocol.paper{border-color:#3c8d53;background:var(--okbg)}
.protocol .label{font-size:16px}.protocol .label strong{font-size:16px}
.protocol .warn{color:var(--warn);font-weight:600;margin:4px 0}
.protocol dl,dl.method-meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:6px 0 0}.protocol dt,dl.method-meta dt{color:var(--muted)}.protocol dd,dl.method-meta dd{margin:0}
dl.method-meta{border:1px solid var(--line);border-radius:6px;padding:8px 12px;background:#f8f9fa;max-width:640px}
table{border-collapse:collapse;margin:6px 0 10px;font-variant-numeric:tabular-nums;font-size:13px}
th,td{border-bottom:1px solid var(--line);padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f4f6f8;font-weight:600;position:sticky;top:0;z-index:1;vertical-align:bottom}
td.num,th.num{text-align:right}td.num{white-space:nowrap}
table.sortable th:not(.nosort){cursor:pointer;user-select:none}
table.sortable th[aria-sort=ascending]::after{content:" ▲";font-size:10px}table.sortable th[aria-sort=descending]::after{content:" ▼";font-size:10px}
tr:target{background:#fff7c2}tr.ref td{background:#f3f7ff}tbody.refs td{background:#f6f7f9}tbody.refs tr:last-child td{border-bottom:2px solid #b8c0c8}
.filters{display:flex;gap:12px;flex-wrap:wrap;align-items:center;margin:8px 0;padding:8px;background:#f8f9fa;border:1px solid var(--line);border-radius:6px}
.filters label{display:flex;gap:4px;align-items:center}.filters .count{color:var(--muted)}
.mismatch{color:var(--bad);font-weight:600}.gain-outside .gain-ci{color:var(--bad)}.muted{color:var(--muted)}.small{font-size:12px}
.charts{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
figure.chart{margin:0;border:1px solid var(--line);border-radius:6px;padding:8px;max-width:100%;overflow-x:auto}figure.chart figcaption{max-width:640px}figure.chart figcaption{color:var(--muted);font-size:12px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(420px,1fr));gap:12px}.card{border:1px solid var(--line);border-radius:6px;padding:10px 14px}
a{color:var(--accent)}code{background:#f1f3f5;padding:0 3px;border-radius:3px}
@media (max-width:1279px){.scroll{overflow-x:auto}}
td.small{min-width:160px;max-width:360px}.protocol-label{white-space:normal}
.fam{white-space:nowrap}.fam::before{content:"";display:inline-block;width:9px;height:9px;border-radius:2px;background:var(--c);margin-right:4px}
.nmark{display:inline-block;font-size:11px;padding:0 4px;border-radius:3px;background:#fde8c8;color:var(--warn);font-weight:600;margin-left:3px}
.seeds{display:block;font-size:11px;color:var(--muted);white-space:nowrap}
.ptag{display:inline-block;font-size:11px;padding:0 4px;border:1px solid var(--line);border-radius:3px;margin:0 2px 0 0}
.agreement{border:2px solid #2457a6;border-radius:6px;padding:10px 14px;margin:8px 0 16px;background:#f5f8fd}
.agreement h2{margin:0 0 6px}.agreement .entry{margin:8px 0 4px}.agreement .tau{font-size:18px;font-weight:700}
.orderings{display:grid;grid-template-columns:repeat(2,minmax(240px,360px));gap:4px 24px}.orderings ol{margin:2px 0;padding-left:26px}.orderings li{white-space:nowrap}
.warnbox{border:1px solid #c98a2b;background:var(--warnbg);border-radius:6px;padding:6px 10px;margin:8px 0;color:var(--warn)}
.methods a.no-results{color:var(--muted)}
`;

/** Sortable tables (click a header; numbers by their data-v) and row filters (selects and a search box). */
const JS = `
(function(){
  function key(td){var v=td.getAttribute('data-v');return v===null?td.textContent.trim():v;}
  function sortBy(table,i,th){
    var body=table.tBodies[table.tBodies.length-1],rows=Array.prototype.slice.call(body.rows);
    var vals=rows.map(function(r){return key(r.cells[i]);});
    var numeric=vals.every(function(v){return v===''||v==='n/a'||!isNaN(Number(v));});
    var cur=th.getAttribute('aria-sort');
    var dir=cur?(cur==='descending'?'ascending':'descending'):(numeric?'descending':'ascending');
    Array.prototype.forEach.call(table.tHead.rows[0].cells,function(h){h.removeAttribute('aria-sort');});
    th.setAttribute('aria-sort',dir);
    var s=dir==='ascending'?1:-1;
    rows.sort(function(a,b){
      var x=key(a.cells[i]),y=key(b.cells[i]);
      var ex=x===''||x==='n/a',ey=y===''||y==='n/a';
      if(ex||ey)return ex===ey?0:(ex?1:-1);
      return numeric?s*(Number(x)-Number(y)):s*x.localeCompare(y);
    });
    rows.forEach(function(r){body.appendChild(r);});
  }
  document.querySelectorAll('table.sortable').forEach(function(table){
    Array.prototype.forEach.call(table.tHead.rows[0].cells,function(th,i){
      if(th.classList.contains('nosort'))return;
      th.tabIndex=0;th.title='sort';
      th.addEventListener('click',function(){sortBy(table,i,th);});
      th.addEventListener('keydown',function(e){if(e.key==='Enter'||e.key===' '){e.preventDefault();sortBy(table,i,th);}});
    });
  });
  document.querySelectorAll('.filters').forEach(function(f){
    var table=document.getElementById(f.getAttribute('data-table'));if(!table)return;
    var controls=f.querySelectorAll('[data-col]'),count=f.querySelector('.count');
    function apply(){
      var shown=0,rows=table.tBodies[table.tBodies.length-1].rows;
      Array.prototype.forEach.call(rows,function(r){
        var ok=true;
        Array.prototype.forEach.call(controls,function(c){
          var v=c.value.trim().toLowerCase();if(!v)return;
          var cell=(r.getAttribute('data-'+c.getAttribute('data-col'))||'').toLowerCase();
          if(c.tagName==='SELECT'){if(cell.split('|').indexOf(v)<0)ok=false;}else if(cell.indexOf(v)<0)ok=false;
        });
        r.hidden=!ok;if(ok)shown++;
      });
      if(count)count.textContent=shown+' of '+rows.length+' rows';
    }
    Array.prototype.forEach.call(controls,function(c){c.addEventListener('input',apply);c.addEventListener('change',apply);});
    apply();
  });
})();
`;

export interface PageOptions {
  title: string;
  /** Pages of the site for the top bar: [href, text]. */
  nav: [string, string][];
  body: string;
  generatedAt: string;
}

export function page(o: PageOptions): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(o.title)}</title>
<style>${CSS}</style>
</head>
<body>
<header class="top"><span class="brand">kdbench</span>${o.nav.map(([h, t]) => `<a href="${esc(h)}">${esc(t)}</a>`).join('')}<span class="muted small">generated ${esc(o.generatedAt)}</span></header>
<main>
${o.body}
</main>
<script>${JS}</script>
</body>
</html>
`;
}

const list = (xs: (string | number)[]) => (xs.length ? xs.map((x) => esc(x)).join('; ') : 'n/a');

const CLASSES: Record<string, number> = { cifar10: 10, cifar100: 100 };

/** `8,000 images (80/class)`: the training images the runs used, else the protocol's setting. */
function trainText(p: ProtocolInfo): string {
  if (p.trainImages.length === 0) return list(p.trainPerClass);
  const classes = CLASSES[p.dataset];
  const one = (n: number) => `${n.toLocaleString('en-US')} images${classes ? ` (${Math.round(n / classes)}/class)` : ''}`;
  const [most, ...other] = p.trainImages;
  return `${one(most!)}${other.length ? `; some runs: ${other.map(one).join('; ')}` : ''}`;
}

/** The protocol banner every page carries near its top. */
export function protocolBanner(p: ProtocolInfo, extra = ''): string {
  const commits = p.commits.length > 3 ? `${list(p.commits.slice(0, 3))} and ${p.commits.length - 3} more` : list(p.commits);
  return `<section class="protocol${p.isPaper ? ' paper' : ''}" data-protocol="${esc(p.protocol)}">
<div class="label">Protocol: <strong class="protocol-label">${esc(p.label)}</strong></div>
${p.isPaper ? '' : `<p class="warn">Not the paper protocol: a reduced run (data subset, narrower models, few epochs). Its absolute accuracies are not comparable to published numbers; compare orderings and gains.</p>`}
<dl>
<dt>dataset</dt><dd>${esc(p.dataset)}</dd>
<dt>data subset</dt><dd>train ${trainText(p)}; eval ${list(p.split)}</dd>
<dt>epochs</dt><dd>${list(p.epochs)}${p.teacherEpochs.length ? ` (teachers ${list(p.teacherEpochs)})` : ''}</dd>
<dt>widths</dt><dd>${p.widths.length ? p.widths.map((w) => `x${w}`).join('; ') : 'n/a'}</dd>
<dt>backend</dt><dd>${list(p.backends)}</dd>
<dt>commit</dt><dd>${commits}</dd>
<dt>date</dt><dd>${esc(p.firstDate.slice(0, 16).replace('T', ' '))}${p.lastDate !== p.firstDate ? ` to ${esc(p.lastDate.slice(0, 16).replace('T', ' '))}` : ''} UTC</dd>
${extra}
</dl>
</section>`;
}
