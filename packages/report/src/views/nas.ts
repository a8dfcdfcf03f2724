/**
 * nas.html: teacher-guided architecture search (family 'nas': nasrandom, nasevo). A run searches a
 * student under the MAC budget of its hand-made student (`row.student`), then trains the searched
 * network with KD. The methods report `search_seconds`, `candidates` and per candidate
 * `candidate_<i>_top1` (short probe training, validation carved from the training rows),
 * `candidate_<i>_macs`, `candidate_<i>_params`, `candidate_<i>_score`; `details.trainedStudent`
 * holds the searched network's {id, params, flops}. The hand-made reference: the `kd` and `vanilla`
 * runs of the same dataset, protocol and student.
 */
import { renderSvg } from '../charts.js';
import { dv, esc, fmt, protocolBanner, signed } from '../html.js';
import { methodPageFile } from '../method-pages.js';
import type { Leaderboard } from '../leaderboard.js';
import type { MethodMeta, Metric, ReportRow } from '../types.js';
import { boardsWith, detailsOf, elementId, figure, latestRows, methodName, pm, round, sectionHead, spread, uniq, variantName, type FamilyView, type Spread, type ViewContext } from './common.js';

export interface NasCandidate {
  index: number;
  top1: number;
  macs: number | null;
  params: number | null;
  score: number | null;
}

export interface NasRun {
  run_id: string;
  method: string;
  name: string;
  seed: number;
  teacher: string;
  /** The hand-made student whose budget the search used. */
  student: string;
  searchSeconds: number | null;
  candidates: number | null;
  searchedId: string | null;
  searchedMacs: number;
  searchedParams: number;
  /** The searched student's accuracy after its KD training (the row's accuracy column). */
  top1: number;
  candidateList: NasCandidate[];
}

export interface HandMade {
  student: string;
  macs: number;
  params: number;
  kd: Spread;
  vanilla: Spread;
}

const CANDIDATE = /^candidate_(\d+)_(top1|macs|params|score)$/;

export function nasRuns(rows: readonly ReportRow[], metric: Metric = 'last_top1', meta: ReadonlyMap<string, MethodMeta> = new Map()): NasRun[] {
  return latestRows(rows.filter((r) => r.family === 'nas')).map((r) => {
    const { extra, trainedStudent } = detailsOf(r);
    const byIndex = new Map<number, Partial<NasCandidate>>();
    for (const [k, v] of Object.entries(extra)) {
      const m = CANDIDATE.exec(k);
      if (!m) continue;
      const i = Number(m[1]);
      byIndex.set(i, { ...byIndex.get(i), index: i, [m[2]!]: v });
    }
    const candidateList = [...byIndex.values()].filter((c): c is Partial<NasCandidate> & { index: number; top1: number } => typeof c.top1 === 'number')
      .map((c) => ({ index: c.index, top1: c.top1, macs: c.macs ?? null, params: c.params ?? null, score: c.score ?? null }))
      .sort((a, b) => a.index - b.index);
    return {
      run_id: r.run_id, method: r.method, name: methodName(r.method, variantName(r, meta)), seed: r.seed, teacher: r.teacher, student: r.student,
      searchSeconds: extra.search_seconds ?? null, candidates: extra.candidates ?? (candidateList.length || null),
      searchedId: trainedStudent?.id ?? null,
      searchedMacs: trainedStudent?.flops ?? extra.searched_macs ?? r.student_flops,
      searchedParams: trainedStudent?.params ?? extra.searched_params ?? r.student_params,
      top1: r[metric], candidateList,
    };
  }).sort((a, b) => a.student.localeCompare(b.student) || a.name.localeCompare(b.name) || a.seed - b.seed);
}

/** The hand-made student's kd and vanilla runs (default settings; kd of the same teacher when there is one). */
export function handMade(rows: readonly ReportRow[], student: string, teacher: string, metric: Metric = 'last_top1', meta: ReadonlyMap<string, MethodMeta> = new Map()): HandMade | null {
  const refs = latestRows(rows.filter((r) => r.family !== 'nas' && r.student === student && (r.method === 'kd' || r.method === 'vanilla') && variantName(r, meta) === ''));
  if (refs.length === 0) return null;
  const kdAll = refs.filter((r) => r.method === 'kd');
  const kd = kdAll.some((r) => r.teacher === teacher) ? kdAll.filter((r) => r.teacher === teacher) : kdAll;
  const vanilla = refs.filter((r) => r.method === 'vanilla');
  return { student, macs: refs[0]!.student_flops, params: refs[0]!.student_params, kd: spread(kd.map((r) => r[metric])), vanilla: spread(vanilla.map((r) => r[metric])) };
}

const mm = (x: number | null) => (x === null ? 'n/a' : fmt(x / 1e6, 2));
const k = (x: number | null) => (x === null ? 'n/a' : fmt(x / 1e3, 1));

function runTable(id: string, runs: NasRun[], refs: Map<string, HandMade | null>, ctx: ViewContext): string {
  const body = runs.map((r) => {
    const h = refs.get(`${r.student}|${r.teacher}`) ?? null;
    const log = ctx.artifacts.get(r.run_id)?.get('nas-search.json');
    return `<tr data-method="${esc(r.method)}" data-seed="${r.seed}"><td><a href="${esc(methodPageFile(r.method))}">${esc(r.name)}</a></td><td class="num">${r.seed}</td>
<td class="num" data-v="${dv(r.searchSeconds)}">${fmt(r.searchSeconds, 1)}</td><td class="num" data-v="${dv(r.candidates)}">${r.candidates ?? 'n/a'}</td>
<td class="num" data-v="${dv(r.searchedMacs)}">${mm(r.searchedMacs)}</td><td class="num" data-v="${dv(r.searchedParams)}">${k(r.searchedParams)}</td>
<td>${esc(r.student)}</td><td class="num" data-v="${dv(h?.macs)}">${mm(h?.macs ?? null)}</td><td class="num" data-v="${dv(h?.params)}">${k(h?.params ?? null)}</td>
<td class="num" data-v="${dv(h?.kd.mean)}">${h ? pm(h.kd) : 'n/a'}</td><td class="num" data-v="${dv(h?.vanilla.mean)}">${h ? pm(h.vanilla) : 'n/a'}</td>
<td class="num" data-v="${dv(r.top1)}">${fmt(r.top1)}</td><td class="num" data-v="${dv(h?.kd.mean === null || !h ? null : r.top1 - h.kd.mean)}">${h && h.kd.mean !== null ? signed(r.top1 - h.kd.mean) : 'n/a'}</td>
<td>${log ? `<a href="${esc(log)}">nas-search.json</a>` : '<span class="muted">—</span>'}</td></tr>`;
  });
  return `<div class="scroll"><table id="${esc(id)}" class="sortable nas-runs"><thead><tr><th>method</th><th class="num">seed</th><th class="num">search s</th><th class="num">candidates</th><th class="num">searched MMACs</th><th class="num">searched params (k)</th><th>hand-made student</th><th class="num">hand-made MMACs</th><th class="num">hand-made params (k)</th><th class="num">hand-made + KD top-1</th><th class="num">hand-made vanilla top-1</th><th class="num">searched + KD top-1</th><th class="num">vs hand-made KD</th><th>search log</th></tr></thead>
<tbody>${body.join('\n')}</tbody></table></div>`;
}

function summaryTable(id: string, runs: NasRun[], refs: Map<string, HandMade | null>): string {
  const groups = new Map<string, NasRun[]>();
  for (const r of runs) groups.set(`${r.name}|${r.teacher}|${r.student}`, [...(groups.get(`${r.name}|${r.teacher}|${r.student}`) ?? []), r]);
  const body = [...groups.values()].map((g) => {
    const f = g[0]!;
    const h = refs.get(`${f.student}|${f.teacher}`) ?? null;
    const top = spread(g.map((r) => r.top1));
    return `<tr data-method="${esc(f.method)}"><td>${esc(f.name)}</td><td>${esc(f.teacher ? `${f.teacher} → ${f.student}` : f.student)}</td><td class="num">${g.length}</td>
<td class="num">${pm(spread(g.map((r) => r.searchSeconds)), 1)}</td><td class="num">${pm(spread(g.map((r) => r.searchedMacs / 1e6)))}</td><td class="num">${pm(top)}</td>
<td class="num">${h ? pm(h.kd) : 'n/a'}</td><td class="num">${h && h.kd.mean !== null && top.mean !== null ? signed(top.mean - h.kd.mean) : 'n/a'}</td></tr>`;
  });
  return `<div class="scroll"><table id="${esc(id)}" class="sortable nas-summary"><thead><tr><th>method</th><th>pair (budget of the student)</th><th class="num">seeds</th><th class="num">search s</th><th class="num">searched MMACs</th><th class="num">searched + KD top-1</th><th class="num">hand-made + KD top-1</th><th class="num">difference</th></tr></thead>
<tbody>${body.join('\n')}</tbody></table></div>`;
}

async function chart(id: string, runs: NasRun[], refs: HandMade[]): Promise<string> {
  const KINDS = ['candidate (probe)', 'searched + KD', 'hand-made'];
  const values = [
    ...runs.flatMap((r) => r.candidateList.filter((c) => c.macs !== null).map((c) => ({ kind: KINDS[0], method: r.name, mmacs: round(c.macs! / 1e6, 3), top1: round(c.top1), seed: r.seed, candidate: c.index }))),
    ...runs.map((r) => ({ kind: KINDS[1], method: r.name, mmacs: round(r.searchedMacs / 1e6, 3), top1: round(r.top1), seed: r.seed, candidate: null })),
    ...refs.flatMap((h) => (['kd', 'vanilla'] as const).flatMap((m) => (h[m].mean === null ? [] : [{ kind: KINDS[2], method: m, mmacs: round(h.macs / 1e6, 3), top1: round(h[m].mean!), seed: null, candidate: null }]))),
  ];
  const methods = uniq(values.map((v) => v.method));
  const enc = {
    x: { field: 'mmacs', type: 'quantitative', scale: { zero: false, padding: 16 }, title: 'MMACs per image' },
    y: { field: 'top1', type: 'quantitative', scale: { zero: false, padding: 12 }, title: 'top-1 (%)' },
    color: { field: 'method', type: 'nominal', title: 'method', scale: { domain: methods, scheme: 'tableau10' } },
    shape: { field: 'kind', type: 'nominal', title: 'point', scale: { domain: KINDS, range: ['circle', 'diamond', 'square'] } },
    tooltip: [{ field: 'kind' }, { field: 'method' }, { field: 'seed' }, { field: 'candidate' }, { field: 'mmacs' }, { field: 'top1' }],
  } as const;
  const only = (kind: string) => [{ filter: { field: 'kind', equal: kind } }];
  const svg = await renderSvg({
    width: 520, height: 300, data: { values },
    layer: [
      { transform: only(KINDS[0]!), mark: { type: 'point', filled: false, size: 45, opacity: 0.7 }, encoding: enc },
      { transform: only(KINDS[1]!), mark: { type: 'point', filled: true, size: 140, stroke: '#222', strokeWidth: 0.8 }, encoding: enc },
      { transform: only(KINDS[2]!), mark: { type: 'point', filled: true, size: 140, stroke: '#222', strokeWidth: 0.8 }, encoding: enc },
    ],
  } as never);
  return figure(id, 'Candidates and searched students', svg, 'Open circles: every candidate of every run, top-1 after its short probe training on a validation split carved from the training rows; diamonds: the searched students after their full KD training (evaluation split); squares: the hand-made student trained with kd and from labels (vanilla), mean over seeds.');
}

async function section(b: Leaderboard, ctx: ViewContext): Promise<string> {
  const runs = nasRuns(b.rows, ctx.metric, ctx.meta);
  const refs = new Map<string, HandMade | null>();
  for (const r of runs) {
    const key = `${r.student}|${r.teacher}`;
    if (!refs.has(key)) refs.set(key, handMade(b.rows, r.student, r.teacher, ctx.metric, ctx.meta));
  }
  const id = elementId('nas', b.id);
  const missing = uniq(runs.filter((r) => !refs.get(`${r.student}|${r.teacher}`)).map((r) => r.student));
  return `${sectionHead(b, protocolBanner(b.protocol))}
<h3>Per method, over seeds</h3>
${summaryTable(`${id}--summary`, runs, refs)}
<h3>Per run</h3>
${runTable(id, runs, refs, ctx)}
<p class="small muted">Search cost: wall seconds of the search (probe trainings included) and the number of candidates trained. Searched: the network the search chose (its MACs per 32×32 image and parameters). Hand-made: the student of the same name, whose MACs are the search budget, trained with kd and from labels alone under this protocol (mean ± std over seeds).${missing.length ? ` No kd or vanilla run of ${esc(missing.join(', '))} under this protocol: no hand-made reference.` : ''}</p>
${await chart(`chart-${id}`, runs, [...refs.values()].filter((h): h is HandMade => h !== null).filter((h, i, a) => a.findIndex((o) => o.student === h.student && o.kd.mean === h.kd.mean) === i))}`;
}

export const nasPage: FamilyView = {
  id: 'nas',
  family: 'nas',
  title: 'Architecture search with a teacher',
  blurb: 'searched students against the hand-made student of the same budget, and the search cost',
  async render(ctx) {
    const sections: string[] = [];
    for (const b of boardsWith(ctx.boards, 'nas')) sections.push(await section(b, ctx));
    return `<h1>${esc(nasPage.title)}</h1>
<p>Each run searches a student within the MACs of its hand-made student, scores the candidates by a short training (probe), then trains the best one with KD. Does the search beat the hand-made design at the same budget, and at what cost?</p>
${sections.join('\n')}`;
  },
};
