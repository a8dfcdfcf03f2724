/**
 * graph.html: graph-based distillation (family 'graph', the survey's section 5.4). The survey splits
 * it in two: the graph carries the teacher's knowledge (irg, lp, mhgd, hkd, lsp), or the graph
 * controls how knowledge passes between networks (ktg, graphdistill). The page shows, per method,
 * what the graph's vertices and edges are, its top-1 over seeds with the gains over the vanilla and
 * kd runs of the same student, and what the methods learn over their graph, read from the numbers
 * they report (`details.extra`):
 * - ktg: `node<k>_top1`, the accuracy of every other vertex (network) of the graph; with a search,
 *   `candidates`, `searched_candidate`, `search_seconds` and the file `ktg-graph.json` (the graph trained);
 * - graphdistill: `edge_<modality>`, the mean learned weight of each source modality's edge to the
 *   student, and `source_<modality>`, the accuracy of that source's network.
 */
import { dv, esc, fmt, protocolBanner, signed } from '../html.js';
import { methodPageFile } from '../method-pages.js';
import type { Leaderboard } from '../leaderboard.js';
import type { MethodMeta, Metric, ReportRow } from '../types.js';
import {
  boardsWith, detailsOf, elementId, hpKey, hpOf, latestRows, methodName, pm, sectionHead, spread, uniq, variantName,
  type FamilyView, type Spread, type ViewContext,
} from './common.js';

export type GraphRole = 'carrier' | 'control';

export interface GraphStructure {
  role: GraphRole;
  vertices: string;
  edges: string;
}

/** What each graph method's graph is made of (from the methods' papers; see their doc comments in packages/graph). */
export const GRAPH_STRUCTURES: Readonly<Record<string, GraphStructure>> = {
  irg: { role: 'carrier', vertices: "the batch's images at the logits and at each stage's pooled output", edges: 'squared distances between images at a layer, and each image\'s distance between consecutive stages' },
  lp: { role: 'carrier', vertices: "the batch's images (pooled embeddings)", edges: "the teacher's k-nearest-neighbour graph with heat-kernel weights; the student keeps neighbours close" },
  mhgd: { role: 'carrier', vertices: "the batch's images at each stage (leading singular vectors of the feature map)", edges: 'eight attention heads between consecutive stages, trained on the teacher first; matched row by row (KL)' },
  hkd: { role: 'carrier', vertices: "the batch's images (128-d embeddings)", edges: 'k nearest neighbours by the cosine of the softmax outputs; a graph layer aggregates them into holistic features (InfoNCE)' },
  lsp: { role: 'carrier', vertices: "the batch's images (pooled embeddings)", edges: "the teacher's k-nearest-neighbour graph (L1); each vertex's softmax over its neighbours' kernels, matched (KL)" },
  ktg: { role: 'control', vertices: 'networks: the student, networks trained with it, fixed pre-trained teachers', edges: 'a loss from each network to each other (KL; the diagonal: cross-entropy), each through a gate: through, cutoff, linear, correct' },
  graphdistill: { role: 'control', vertices: 'input modalities, each with its network (rgb: the teacher)', edges: "from each source modality to the student's, weighted per image by a learned kernel" },
};

const ROLE_TEXT: Record<GraphRole, string> = { carrier: 'carries the knowledge', control: 'controls the transfer' };

const seeded = (rows: readonly ReportRow[], metric: Metric) => ({ ...spread(rows.map((r) => r[metric])), seeds: rows.map((r) => r.seed).sort((a, b) => a - b) });
type Seeded = Spread & { seeds: number[] };

export interface GraphViewRow {
  method: string;
  /** Method with its variant (settings other than the defaults). */
  name: string;
  structure: GraphStructure | null;
  teacher: string;
  student: string;
  /** The student's input modality: graphdistill's `target`, else rgb. */
  input: string;
  top1: Seeded;
  /** Means of the vanilla and kd runs (default settings) of the same student (kd: of the same teacher when there is one). */
  vanilla: number | null;
  kd: number | null;
  /** The rows of the group, latest per seed, sorted by seed. */
  runs: ReportRow[];
}

export function graphView(rows: readonly ReportRow[], metric: Metric = 'last_top1', meta: ReadonlyMap<string, MethodMeta> = new Map()): GraphViewRow[] {
  const latest = latestRows(rows);
  // the registry's family first: irg and lp rows recorded while they belonged to 'relation' count here
  const isGraph = (r: ReportRow) => (meta.get(r.method)?.family ?? r.family) === 'graph';
  const refs = latest.filter((r) => !isGraph(r) && variantName(r, meta) === '');
  const groups = new Map<string, ReportRow[]>();
  for (const r of latest.filter(isGraph)) {
    const k = JSON.stringify([r.method, hpKey(r), r.teacher, r.student]);
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  return [...groups.values()].map((g) => {
    const f = g[0]!;
    const runs = [...g].sort((a, b) => a.seed - b.seed);
    const vanilla = refs.filter((r) => r.method === 'vanilla' && r.student === f.student);
    const kdAll = refs.filter((r) => r.method === 'kd' && r.student === f.student);
    const kd = kdAll.some((r) => r.teacher === f.teacher) ? kdAll.filter((r) => r.teacher === f.teacher) : kdAll;
    return {
      method: f.method, name: methodName(f.method, variantName(f, meta)), structure: GRAPH_STRUCTURES[f.method] ?? null,
      teacher: f.teacher, student: f.student, input: f.method === 'graphdistill' ? String(hpOf(f).target ?? 'unknown') : 'rgb',
      top1: seeded(runs, metric), vanilla: spread(vanilla.map((r) => r[metric])).mean, kd: spread(kd.map((r) => r[metric])).mean, runs,
    };
  }).sort((a, b) => (a.structure?.role ?? '~').localeCompare(b.structure?.role ?? '~') || (b.top1.mean ?? -Infinity) - (a.top1.mean ?? -Infinity) || a.name.localeCompare(b.name));
}

/** Mean ± std over the runs of one reported number, or null when no run reports it. */
function extraSpread(runs: readonly ReportRow[], key: string): Spread | null {
  const s = spread(runs.map((r) => detailsOf(r).extra[key]));
  return s.n ? s : null;
}

const gain = (top1: number | null, ref: number | null) => (top1 === null || ref === null ? null : top1 - ref);

function table(id: string, rows: GraphViewRow[]): string {
  const body = rows.map((r) => {
    const gv = gain(r.top1.mean, r.vanilla);
    const gk = gain(r.top1.mean, r.kd);
    const s = r.structure;
    return `<tr data-method="${esc(r.method)}" data-role="${esc(s?.role ?? '')}"><td><a href="${esc(methodPageFile(r.method))}">${esc(r.name)}</a></td><td>${s ? esc(ROLE_TEXT[s.role]) : '—'}</td><td>${esc(r.teacher ? `${r.teacher} → ${r.student}` : r.student)}</td><td>${esc(r.input)}</td>
<td class="num" title="seeds ${esc(r.top1.seeds.join(', '))}">${r.top1.n}</td><td class="num" data-v="${dv(r.top1.mean)}">${pm(r.top1)}</td><td class="num" data-v="${dv(gv)}">${signed(gv)}</td><td class="num" data-v="${dv(gk)}">${signed(gk)}</td>
<td class="small">${s ? esc(s.vertices) : '—'}</td><td class="small">${s ? esc(s.edges) : '—'}</td></tr>`;
  });
  return `<div class="scroll"><table id="${esc(id)}" class="sortable graph-methods"><thead><tr><th>method</th><th>the graph</th><th>pair</th><th>student input</th><th class="num">seeds</th><th class="num">top-1 mean ± std</th><th class="num">vs vanilla</th><th class="num">vs kd</th><th>vertices</th><th>edges</th></tr></thead>
<tbody>${body.join('\n')}</tbody></table></div>
<p class="small muted">top-1: mean ± sample std over seeds (± n/a with one seed). vs vanilla / vs kd: the method's mean minus the mean of the same student trained from labels / with KD (default settings; kd from the same teacher when it ran), on RGB images. A student whose input is another modality (graphdistill) pays that modality's cost too: see the cross-modal view for modalitykd on the same input.</p>`;
}

/** ktg: the graph's other vertices (networks) and their accuracy, the gates, the search. */
function ktgTable(id: string, rows: GraphViewRow[], ctx: ViewContext): string {
  const ktg = rows.filter((r) => r.method === 'ktg');
  if (ktg.length === 0) return '';
  const body = ktg.map((r) => {
    const hp = hpOf(r.runs[0]!);
    // ktg's `nodes`: 'student' past node 0 is a peer of the student's architecture trained with it
    const nodes = ['student', ...String(hp.nodes ?? '').split(/\s+/).filter(Boolean).map((n) => (n === 'student' ? 'peer (student architecture)' : n))];
    const searched = extraSpread(r.runs, 'candidates');
    const accuracy = nodes.slice(1).map((n, k) => {
      const s = extraSpread(r.runs, `node${k + 1}_top1`);
      return `node ${k + 1} (${esc(n)}): ${s ? pm(s) : 'n/a'}`;
    });
    const links = r.runs.flatMap((run) => {
      const href = ctx.artifacts.get(run.run_id)?.get('ktg-graph.json');
      return href ? [`<a href="${esc(href)}">seed ${run.seed}</a>`] : [];
    });
    const seconds = extraSpread(r.runs, 'search_seconds');
    const winners = r.runs.flatMap((run) => {
      const e = detailsOf(run).extra;
      const c = e.searched_candidate;
      return c === undefined ? [] : [`seed ${run.seed}: candidate ${c}, held-out top-1 ${fmt(e[`candidate_${c}_top1`])} after ${fmt(e[`candidate_${c}_epochs`], 0)} epochs`];
    });
    const graph = searched
      ? `searched: ${fmt(searched.mean, 0)} random graphs by successive halving (${seconds ? `${pm(seconds, 1)} s` : 'n/a'}); ${esc(winners.join('; '))}`
      : `given: ${esc(String(hp.gates ?? 'n/a'))}`;
    return `<tr data-method="ktg"><td>${esc(r.name)}</td><td>${esc(nodes.map((n, k) => `${k}: ${n}`).join(', '))}</td><td class="small">${graph}</td><td class="small">${accuracy.join('<br>') || '—'}</td><td>${links.join(' ') || '<span class="muted">—</span>'}</td></tr>`;
  });
  return `<h3>ktg: the networks of the graph</h3>
<div class="scroll"><table id="${esc(id)}" class="graph-ktg"><thead><tr><th>setting</th><th>vertices (node 0 is the student)</th><th>gates (row t: edges s → t)</th><th>top-1 of the other vertices, mean ± std</th><th>graph trained</th></tr></thead>
<tbody>${body.join('\n')}</tbody></table></div>`;
}

/** graphdistill: the learned weight of each source modality's edge, and each source's accuracy. */
function modalityTable(id: string, rows: GraphViewRow[]): string {
  const gd = rows.filter((r) => r.method === 'graphdistill');
  if (gd.length === 0) return '';
  const keyed = (prefix: string, r: GraphViewRow) => r.runs.flatMap((run) => Object.keys(detailsOf(run).extra)).filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length));
  const sources = uniq(gd.flatMap((r) => keyed('edge_', r))).sort((a, b) => (a === 'rgb' ? -1 : b === 'rgb' ? 1 : a.localeCompare(b)));
  const body = gd.map((r) => `<tr data-method="graphdistill"><td>${esc(r.name)}</td><td>${esc(r.input)}</td>${sources.map((m) => {
    const w = extraSpread(r.runs, `edge_${m}`);
    const acc = extraSpread(r.runs, `source_${m}`);
    return `<td class="num" data-modality="${esc(m)}" data-v="${dv(w?.mean)}">${w ? pm(w, 3) : '—'}${acc ? ` <span class="muted small">(${fmt(acc.mean)})</span>` : ''}</td>`;
  }).join('')}</tr>`);
  return `<h3>graphdistill: the learned modality weights</h3>
<div class="scroll"><table id="${esc(id)}" class="graph-modalities"><thead><tr><th>setting</th><th>student input</th>${sources.map((m) => `<th class="num">${esc(m)}</th>`).join('')}</tr></thead>
<tbody>${body.join('\n')}</tbody></table></div>
<p class="small muted">Cells: the mean weight of the source modality's edge to the student over the evaluation images (the weights of an image sum to 1), mean ± std over seeds; in brackets the top-1 of that source's own network (rgb: the teacher).</p>`;
}

async function section(b: Leaderboard, ctx: ViewContext): Promise<string> {
  const rows = graphView(b.rows, ctx.metric, ctx.meta);
  return `${sectionHead(b, protocolBanner(b.protocol))}
${table(elementId('graph', b.id), rows)}
${ktgTable(elementId('graph', b.id, 'ktg'), rows, ctx)}
${modalityTable(elementId('graph', b.id, 'modalities'), rows)}`;
}

export const graphPage: FamilyView = {
  id: 'graph',
  family: 'graph',
  title: 'Graph-based distillation',
  blurb: "each method's graph (vertices and edges), gains over vanilla and kd, the learned network and modality weights",
  async render(ctx) {
    const sections: string[] = [];
    for (const b of boardsWith(ctx.boards, 'graph')) sections.push(await section(b, ctx));
    return `<h1>${esc(graphPage.title)}</h1>
<p>The survey (section 5.4) splits graph-based distillation in two. In the first kind the graph carries the teacher's knowledge: its vertices are images of a batch or features, its edges their relations, and the student learns to build the same graph. In the second kind the graph controls how knowledge passes: its vertices are networks or input modalities, its edges the transfers between them, with weights or gates.</p>
${sections.join('\n')}`;
  },
};
