/**
 * data-free.html: distillation without the training images (family 'data-free': dafl, deepinv, dfad,
 * zskt). The methods report `synthesis_seconds` and `images_generated` and write `synthesis.png`, a
 * grid of their synthesized images, into the run folder. The page: top-1, synthesis time and images
 * per method over seeds, and the image grids of the runs whose artifacts the site copied
 * (buildSite's `runsDir`).
 */
import { dv, esc, fmt, protocolBanner } from '../html.js';
import { methodPageFile } from '../method-pages.js';
import type { Leaderboard } from '../leaderboard.js';
import type { MethodMeta, Metric, ReportRow } from '../types.js';
import { boardsWith, detailsOf, elementId, hpKey, latestRows, methodName, pm, sectionHead, spread, variantName, type FamilyView, type Spread, type ViewContext } from './common.js';

export interface DataFreeViewRow {
  method: string;
  name: string;
  teacher: string;
  student: string;
  seeds: number[];
  top1: Spread;
  synthesisSeconds: Spread;
  imagesGenerated: Spread;
  /** The runs (latest per seed), for their artifacts. */
  runs: ReportRow[];
}

export function dataFreeView(rows: readonly ReportRow[], metric: Metric = 'last_top1', meta: ReadonlyMap<string, MethodMeta> = new Map()): DataFreeViewRow[] {
  const groups = new Map<string, ReportRow[]>();
  for (const r of latestRows(rows.filter((x) => x.family === 'data-free'))) {
    const k = JSON.stringify([r.method, hpKey(r), r.teacher, r.student]);
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  return [...groups.values()].map((g) => {
    const f = g[0]!;
    const runs = [...g].sort((a, b) => a.seed - b.seed);
    const extras = runs.map((r) => detailsOf(r).extra);
    return {
      method: f.method, name: methodName(f.method, variantName(f, meta)), teacher: f.teacher, student: f.student, seeds: runs.map((r) => r.seed),
      top1: spread(runs.map((r) => r[metric])),
      synthesisSeconds: spread(extras.map((e) => e.synthesis_seconds)),
      imagesGenerated: spread(extras.map((e) => e.images_generated)),
      runs,
    };
  }).sort((a, b) => (b.top1.mean ?? -Infinity) - (a.top1.mean ?? -Infinity) || a.name.localeCompare(b.name));
}

function table(id: string, rows: DataFreeViewRow[]): string {
  const body = rows.map((r) => `<tr data-method="${esc(r.method)}"><td><a href="${esc(methodPageFile(r.method))}">${esc(r.name)}</a></td><td>${esc(r.teacher ? `${r.teacher} → ${r.student}` : r.student)}</td><td class="num" title="seeds ${esc(r.seeds.join(', '))}">${r.seeds.length}</td>
<td class="num" data-v="${dv(r.top1.mean)}">${pm(r.top1)}</td><td class="num" data-v="${dv(r.synthesisSeconds.mean)}">${pm(r.synthesisSeconds, 1)}</td><td class="num" data-v="${dv(r.imagesGenerated.mean)}">${r.imagesGenerated.mean === null ? 'n/a' : fmt(r.imagesGenerated.mean, 0)}</td></tr>`);
  return `<div class="scroll"><table id="${esc(id)}" class="sortable data-free"><thead><tr><th>method</th><th>pair</th><th class="num">seeds</th><th class="num">top-1 mean ± std</th><th class="num">synthesis s</th><th class="num">images generated</th></tr></thead>
<tbody>${body.join('\n')}</tbody></table></div>
<p class="small muted">top-1: the student trained on synthesized images only, on the real evaluation split, mean ± sample std over seeds. Synthesis s: seconds spent producing images (generator or inversion steps), mean ± std; images generated: images synthesized during the run, mean over seeds.</p>`;
}

function grids(rows: DataFreeViewRow[], ctx: ViewContext): string {
  const figures = rows.flatMap((r) => r.runs.flatMap((run) => {
    const copied = ctx.artifacts.get(run.run_id);
    if (!copied) return [];
    return [...copied].filter(([name]) => name.toLowerCase().endsWith('.png')).map(([name, href]) => `<figure class="synthesis" style="margin:0" data-run="${esc(run.run_id)}"><img src="${esc(href)}" width="256" style="image-rendering:pixelated" alt="${esc(`${name} of ${r.name}, seed ${run.seed}`)}"><figcaption>${esc(r.name)}, seed ${run.seed}${r.teacher ? ` · teacher ${esc(r.teacher)}` : ''}</figcaption></figure>`);
  }));
  if (figures.length === 0) return `<p class="muted small">No synthesized image grids: the site was built without the runs folder, or the runs wrote no <code>synthesis.png</code>.</p>`;
  return `<div class="image-grids" style="display:flex;flex-wrap:wrap;gap:12px">${figures.join('\n')}</div>
<p class="small muted">Each grid: images drawn from the method's synthesizer after training (its run folder's synthesis.png; pixels enlarged, unsmoothed).</p>`;
}

/** The teacher the students invert and the student trained on the real images: what a data-free student is measured against. */
function references(b: Leaderboard): string {
  const teachers = b.teachers.map((t) => `teacher <strong>${esc(t.teacher)}</strong> ${fmt(t.mean)}`);
  const vanilla = b.stats.filter((s) => s.method === 'vanilla').map((s) => `vanilla <strong>${esc(s.student)}</strong> on the real images ${fmt(s.mean)} ± ${fmt(s.std)} <span class="muted small">(${s.n} seed${s.n === 1 ? '' : 's'})</span>`);
  const parts = [...teachers, ...vanilla];
  return `<p class="data-free-references">References: ${parts.length ? parts.join('; ') : '<span class="muted">no teacher or vanilla run on this board</span>'}.</p>`;
}

async function section(b: Leaderboard, ctx: ViewContext): Promise<string> {
  const rows = dataFreeView(b.rows, ctx.metric, ctx.meta);
  return `${sectionHead(b, protocolBanner(b.protocol))}
${references(b)}
${table(elementId('data-free', b.id), rows)}
<h3>Synthesized images</h3>
${grids(rows, ctx)}`;
}

export const dataFreePage: FamilyView = {
  id: 'data-free',
  family: 'data-free',
  title: 'Data-free distillation',
  blurb: 'accuracy, synthesis cost and the synthesized images',
  async render(ctx) {
    const sections: string[] = [];
    for (const b of boardsWith(ctx.boards, 'data-free')) sections.push(await section(b, ctx));
    return `<h1>${esc(dataFreePage.title)}</h1>
<p>The student never sees a training image: it learns from images synthesized from the teacher (a generator trained against it, or inputs optimised through it).</p>
${sections.join('\n')}`;
  },
};
