/**
 * Family views of the report site (quantized, lifelong, nas, cross-modal, data-free, graph): their numbers,
 * their pages and links, the copied artifacts and the charts. FABRICATED TEST DATA: every accuracy,
 * size, time and image below is made up to check the arithmetic and the pages; none was measured,
 * and the rows' protocol label says so.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildLeaderboards, buildSite, crossModalView, dataFreeView, formatExtra, GRAPH_STRUCTURES, graphView, handMade, lifelongView, nasRuns, taskForgetting, viewsOf, type MethodMeta, type ReportRow } from '../src/index.js';
import { testRows } from './fixtures.js';

const LABEL = 'TEST DATA (fabricated for report view tests, not measured) · quick (CPU): 400 train + 100 eval images/class, widths x0.5, 12 epochs';

interface Fab {
  method: string;
  family: string;
  seed: number;
  top1: number;
  teacher?: string;
  student?: string;
  hp?: Record<string, unknown>;
  extra?: Record<string, number>;
  artifacts?: string[];
  trainedStudent?: { id: string; params: number; flops: number };
  params?: number;
  flops?: number;
  date?: string;
}

/** One fabricated result row (see the file comment). */
function fab(p: Fab): ReportRow {
  const teacher = p.teacher ?? '';
  const student = p.student ?? 'resnet8';
  return {
    run_id: `fab-${p.method}-${JSON.stringify(p.hp ?? {}).replace(/[^a-z0-9]+/gi, '')}-${teacher}-${student}-${p.seed}`,
    method: p.method, family: p.family, knowledge: 'response', scheme: 'offline', dataset: 'cifar100', split: 'test',
    split_description: 'test subsample 100/class [FABRICATED TEST DATA]', teacher, student, protocol: 'quick', protocol_label: LABEL,
    seed: p.seed, epochs: 12, best_top1: p.top1 + 0.5, last_top1: p.top1, train_seconds: 100, images_per_second: 100, backend: 'wasm',
    teacher_top1: teacher ? 66 : null, student_params: p.params ?? 78_000, student_flops: p.flops ?? 12_000_000, git_commit: 'fab0000', date: p.date ?? '2026-11-27T02:00:00.000Z',
    details: JSON.stringify({ protocol: { id: 'quick', trainPerClass: 400, widthFactor: 0.5, epochs: 12 }, history: [], extra: p.extra ?? {}, artifacts: p.artifacts ?? [], trainedStudent: p.trainedStudent ?? null }),
    hyperparameters: JSON.stringify(p.hp ?? {}),
  };
}

const refs = (student = 'resnet8') => [
  fab({ method: 'vanilla', family: 'baseline', seed: 0, top1: 57, student }), fab({ method: 'vanilla', family: 'baseline', seed: 1, top1: 59, student }),
  fab({ method: 'kd', family: 'response', seed: 0, top1: 60, teacher: 'resnet32', student }), fab({ method: 'kd', family: 'response', seed: 1, top1: 62, teacher: 'resnet32', student }),
];

// Lifelong, T = 3 tasks. lwf seed 0: seen 90, 70, 60; task 1: 90, 60, 40; task 2: 80, 50; task 3: 90.
//   forgetting task 1 = max(90, 60) - 40 = 50, task 2 = 80 - 50 = 30, mean 40; AIA (90 + 70 + 60) / 3 = 73.333
// lwf seed 1: seen 80, 60, 50; task 1: 80, 70, 30; task 2: 60, 40; task 3: 80.
//   forgetting task 1 = 80 - 30 = 50, task 2 = 60 - 40 = 20, mean 35; AIA 63.333
function lifelongExtra(seen: number[], perTask: number[][]): Record<string, number> {
  const e: Record<string, number> = {};
  seen.forEach((s, k) => (e[`acc_after_task_${k + 1}`] = s));
  perTask.forEach((row, k) => row.forEach((a, j) => (e[`acc_task_${j + 1}_after_task_${k + 1}`] = a)));
  const T = seen.length;
  const f = taskForgetting(e, T).map(Number);
  return { ...e, average_incremental_accuracy: seen.reduce((a, b) => a + b, 0) / T, last_accuracy: seen[T - 1]!, forgetting: f.reduce((a, b) => a + b, 0) / f.length };
}
const lifelongRows = () => [
  fab({ method: 'lwf', family: 'lifelong', seed: 0, top1: 60, extra: lifelongExtra([90, 70, 60], [[90], [60, 80], [40, 50, 90]]) }),
  fab({ method: 'lwf', family: 'lifelong', seed: 1, top1: 50, extra: lifelongExtra([80, 60, 50], [[80], [70, 60], [30, 40, 80]]) }),
  // iCaRL: nearest-mean accuracy (last_accuracy 65) differs from the network's last_top1 (58)
  fab({ method: 'icarl', family: 'lifelong', seed: 0, top1: 58, extra: { ...lifelongExtra([92, 75, 65], [[92], [85, 70], [70, 60, 65]]) } }),
  fab({ method: 'finetune', family: 'lifelong', seed: 0, top1: 30, extra: lifelongExtra([90, 45, 30], [[90], [0, 90], [0, 0, 90]]) }),
];

// NAS: nasevo searched a 11 MMACs / 70k-parameter student under resnet8's budget (12 MMACs, 78k), 3 candidates per run.
const nasExtra = (seconds: number, c: [number, number][]) => {
  const e: Record<string, number> = { search_seconds: seconds, candidates: c.length, budget_macs: 12_000_000, searched_macs: 11_000_000, searched_params: 70_000, searched_probe_top1: 41.5, searched_candidate: 1 };
  c.forEach(([top1, macs], i) => Object.assign(e, { [`candidate_${i}_top1`]: top1, [`candidate_${i}_macs`]: macs, [`candidate_${i}_params`]: 60_000 + i, [`candidate_${i}_score`]: top1 / 100 }));
  return e;
};
const nasRows = () => [
  fab({ method: 'nasevo', family: 'nas', seed: 0, top1: 61, teacher: 'resnet32', flops: 11_000_000, params: 70_000, trainedStudent: { id: 'searchable', params: 70_000, flops: 11_000_000 }, extra: nasExtra(12.34, [[30, 9e6], [41.5, 11e6], [35, 11.8e6]]), artifacts: ['nas-search.json'] }),
  fab({ method: 'nasevo', family: 'nas', seed: 1, top1: 63, teacher: 'resnet32', flops: 11_000_000, params: 70_000, trainedStudent: { id: 'searchable', params: 70_000, flops: 11_000_000 }, extra: nasExtra(14.34, [[31, 10e6], [40, 11e6], [33, 8e6]]) }),
];

// Cross-modal: modality x method cells.
const cm = (method: string, modality: string, seed: number, top1: number) => fab({ method, family: 'cross-modal', seed, top1, teacher: method === 'modalitylabeled' ? '' : 'resnet32', hp: { modality, T: 4 } });
const crossModalRows = () => [
  cm('modalitykd', 'gray', 0, 50), cm('modalitykd', 'gray', 1, 52), cm('modalitykd', 'low8', 0, 40),
  cm('crdcrossmodal', 'gray', 0, 53), cm('modalitylabeled', 'edge', 0, 30), cm('modalitylabeled', 'edge', 1, 34),
];

// Data-free: dafl synthesised 1000 / 1200 images in 12.34 / 14.34 s; seed 0 wrote synthesis.png, seed 1's file is missing.
const dataFreeRows = () => [
  fab({ method: 'dafl', family: 'data-free', seed: 0, top1: 40, teacher: 'resnet32', extra: { synthesis_seconds: 12.34, images_generated: 1000 }, artifacts: ['synthesis.png', '../escape.png'] }),
  fab({ method: 'dafl', family: 'data-free', seed: 1, top1: 44, teacher: 'resnet32', extra: { synthesis_seconds: 14.34, images_generated: 1200 }, artifacts: ['synthesis.png'] }),
];

// Graph: irg 63 / 65 (mean 64: +6 over vanilla's 58, +3 over kd's 61); ktg with its given graph
// (node 1 the peer 55 / 57, node 2 the teacher 66) and ktg searching 4 graphs (seed 0: candidate 2 won,
// 41.5 held-out after 4 epochs); graphdistill on gray, rgb edge weights 0.5 / 0.6 (mean 0.55 ± 0.0707).
const KTG_HP = { nodes: 'student teacher', gates: 'through through through / through through through / cutoff cutoff cutoff', search: 0 };
const graphRows = () => [
  fab({ method: 'irg', family: 'graph', seed: 0, top1: 63, teacher: 'resnet32' }), fab({ method: 'irg', family: 'graph', seed: 1, top1: 65, teacher: 'resnet32' }),
  fab({ method: 'ktg', family: 'graph', seed: 0, top1: 62, teacher: 'resnet32', hp: KTG_HP, extra: { node1_top1: 55, node2_top1: 66 } }),
  fab({ method: 'ktg', family: 'graph', seed: 1, top1: 64, teacher: 'resnet32', hp: KTG_HP, extra: { node1_top1: 57, node2_top1: 66 } }),
  fab({
    method: 'ktg', family: 'graph', seed: 0, top1: 60, teacher: 'resnet32', hp: { ...KTG_HP, search: 4 }, artifacts: ['ktg-graph.json'],
    extra: { node1_top1: 50, node2_top1: 66, candidates: 4, searched_candidate: 2, search_seconds: 30, candidate_2_top1: 41.5, candidate_2_epochs: 4, candidate_0_top1: 30, candidate_0_epochs: 1 },
  }),
  fab({ method: 'graphdistill', family: 'graph', seed: 0, top1: 54, teacher: 'resnet32', hp: { target: 'gray' }, extra: { edge_rgb: 0.5, edge_low8: 0.3, edge_edge: 0.2, source_rgb: 66, source_low8: 40, source_edge: 30 } }),
  fab({ method: 'graphdistill', family: 'graph', seed: 1, top1: 56, teacher: 'resnet32', hp: { target: 'gray' }, extra: { edge_rgb: 0.6, edge_low8: 0.2, edge_edge: 0.2, source_rgb: 66, source_low8: 42, source_edge: 30 } }),
];
const KTG_META: MethodMeta = { id: 'ktg', title: 'Knowledge transfer graph', family: 'graph', knowledge: 'response', scheme: 'online', paper: { authors: 'x', title: 'x', venue: 'x', year: 2020, url: 'x' }, defaults: KTG_HP };

// Quantized: qat and quantdistill at W4A4 and W2A8 (ternary) against FP32 vanilla / kd of resnet8 (78k parameters = 312000 bytes).
const q = (method: string, seed: number, top1: number, wbits: number, abits: number, bytes: number) =>
  fab({ method, family: 'quantized', seed, top1, teacher: method === 'qat' ? '' : 'resnet32', hp: { wbits, abits: 0, edgeBits: 8 }, extra: { model_bytes: bytes, wbits, abits } });
const quantizedRows = () => [q('qat', 0, 55, 4, 4, 52_000), q('qat', 1, 57, 4, 4, 52_000), q('quantdistill', 0, 58, 4, 4, 52_000), q('quantdistill', 0, 45, 2, 8, 31_200)];

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'kdbench-views-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** The paths of each mark group (`<g class="mark-<type> role-mark ...">`) of an SVG. */
const markGroups = (svg: string, type: string) => [...svg.matchAll(new RegExp(`<g class="mark-${type} role-mark[^"]*"[^>]*>(.*?)</g>`, 'g'))].map((m) => (m[1]!.match(/<(path|line|text)/g) ?? []).length);

describe('lifelong view (fabricated rows)', () => {
  const [board] = buildLeaderboards(lifelongRows());
  const v = lifelongView(board!.rows);
  const lwf = v.find((r) => r.method === 'lwf')!;

  it('averages AIA, last accuracy and forgetting over seeds', () => {
    expect(v.map((r) => r.method)).toEqual(['icarl', 'lwf', 'finetune']); // by AIA: 77.33, 68.33, 55
    expect(lwf.tasks).toBe(3);
    expect(lwf.aia.mean).toBeCloseTo(68.333333, 5);
    expect(lwf.aia.std).toBeCloseTo(10 / Math.SQRT2, 6);
    expect(lwf.last).toMatchObject({ n: 2, mean: 55 });
    expect(lwf.forgetting.mean).toBeCloseTo(37.5, 9);
    expect(lwf.forgetting.std).toBeCloseTo(5 / Math.SQRT2, 6);
    expect(lwf.afterTask.map((s) => s.mean)).toEqual([85, 65, 55]);
  });

  it('computes forgetting per task from the per-task accuracies', () => {
    expect(lwf.taskForgetting.map((s) => s.mean)).toEqual([50, 25]);
    expect(lwf.taskForgetting[0]!.std).toBe(0);
    expect(lwf.taskForgetting[1]!.std).toBeCloseTo(10 / Math.SQRT2, 6);
    // finetune: task 1 90 -> 0, task 2 90 -> 0
    expect(v.find((r) => r.method === 'finetune')!.taskForgetting.map((s) => s.mean)).toEqual([90, 90]);
    expect(taskForgetting({ acc_task_1_after_task_1: 5 }, 2)).toEqual([null]);
  });

  it("keeps iCaRL's nearest-mean last accuracy apart from its network top-1", () => {
    const icarl = v.find((r) => r.method === 'icarl')!;
    expect(icarl.last.mean).toBe(65);
    expect(icarl.top1.mean).toBe(58);
  });
});

describe('nas view (fabricated rows)', () => {
  const rows = [...nasRows(), ...refs()];
  const runs = nasRuns(rows);

  it('reads the search cost, the searched network and every candidate of each run', () => {
    expect(runs).toHaveLength(2);
    expect(runs[0]).toMatchObject({ method: 'nasevo', seed: 0, searchSeconds: 12.34, candidates: 3, searchedId: 'searchable', searchedMacs: 11e6, searchedParams: 70_000, top1: 61, student: 'resnet8' });
    expect(runs[0]!.candidateList).toEqual([
      { index: 0, top1: 30, macs: 9e6, params: 60_000, score: 0.3 },
      { index: 1, top1: 41.5, macs: 11e6, params: 60_001, score: 0.415 },
      { index: 2, top1: 35, macs: 11.8e6, params: 60_002, score: 0.35 },
    ]);
  });

  it('finds the hand-made student of the same budget: its kd and vanilla runs', () => {
    const h = handMade(rows, 'resnet8', 'resnet32')!;
    expect(h).toMatchObject({ student: 'resnet8', macs: 12e6, params: 78_000 });
    expect(h.kd).toMatchObject({ n: 2, mean: 61 });
    expect(h.kd.std).toBeCloseTo(Math.SQRT2, 9);
    expect(h.vanilla).toMatchObject({ n: 2, mean: 58 });
    expect(handMade(rows, 'resnet20', 'resnet32')).toBeNull();
  });
});

describe('cross-modal view (fabricated rows)', () => {
  const [t] = crossModalView([...crossModalRows(), ...refs()]);

  it('makes a modality x method table over seeds with the RGB references', () => {
    expect(t!.student).toBe('resnet8');
    expect(t!.modalities).toEqual(['gray', 'low8', 'edge']);
    expect(t!.columns.map((c) => c.name)).toEqual(['crdcrossmodal', 'modalitykd', 'modalitylabeled']);
    const cell = (m: string, method: string) => t!.cells.get(`${m}\u0000${t!.columns.find((c) => c.method === method)!.key}`);
    expect(cell('gray', 'modalitykd')).toMatchObject({ n: 2, mean: 51, seeds: [0, 1] });
    expect(cell('gray', 'modalitykd')!.std).toBeCloseTo(Math.SQRT2, 9);
    expect(cell('low8', 'modalitykd')).toMatchObject({ n: 1, mean: 40, std: null });
    expect(cell('edge', 'modalitylabeled')).toMatchObject({ mean: 32 });
    expect(cell('low8', 'crdcrossmodal')).toBeUndefined();
    expect(t!.rgb.vanilla).toMatchObject({ n: 2, mean: 58 });
    expect(t!.rgb.kd).toMatchObject({ n: 2, mean: 61 });
  });
});

describe('data-free view (fabricated rows)', () => {
  it('averages top-1, synthesis time and images over seeds', () => {
    const [d] = dataFreeView(dataFreeRows());
    expect(d).toMatchObject({ method: 'dafl', seeds: [0, 1] });
    expect(d!.top1.mean).toBe(42);
    expect(d!.synthesisSeconds.mean).toBeCloseTo(13.34, 9);
    expect(d!.synthesisSeconds.std).toBeCloseTo(Math.SQRT2, 9);
    expect(d!.imagesGenerated.mean).toBe(1100);
  });
});

describe('graph view (fabricated rows)', () => {
  const v = graphView([...graphRows(), ...refs('resnet8')], 'last_top1', new Map([['ktg', KTG_META]]));

  it('groups by method and setting, with gains over vanilla and kd of the same student', () => {
    const irg = v.find((r) => r.method === 'irg')!;
    expect(irg).toMatchObject({ name: 'irg', teacher: 'resnet32', student: 'resnet8', input: 'rgb', vanilla: 58, kd: 61 });
    expect(irg.top1).toMatchObject({ n: 2, mean: 64, seeds: [0, 1] });
    expect(v.filter((r) => r.method === 'ktg').map((r) => r.name).sort()).toEqual(['ktg', 'ktg [search=4]']);
    expect(v.find((r) => r.method === 'graphdistill')).toMatchObject({ input: 'gray', top1: { mean: 55 } });
    // carriers first, then control methods, each by top-1
    expect(v.map((r) => r.structure?.role)).toEqual(['carrier', 'control', 'control', 'control']);
    expect(v.map((r) => r.name)).toEqual(['irg', 'ktg', 'ktg [search=4]', 'graphdistill']);
  });

  it("counts rows recorded under another family when the registry now puts their method in 'graph'", () => {
    const old = [fab({ method: 'lp', family: 'relation', seed: 0, top1: 59, teacher: 'resnet32' }), ...refs('resnet8')];
    expect(graphView(old)).toEqual([]);
    const lpMeta: MethodMeta = { ...KTG_META, id: 'lp', family: 'graph', defaults: {} };
    expect(graphView(old, 'last_top1', new Map([['lp', lpMeta]])).map((r) => [r.method, r.top1.mean, r.vanilla])).toEqual([['lp', 59, 58]]);
    const [board] = buildLeaderboards(old, [lpMeta]);
    expect(viewsOf(board!).map((x) => x.id)).toEqual(['graph']);
  });

  it('describes the vertices and edges of every graph method', () => {
    expect(Object.keys(GRAPH_STRUCTURES).sort()).toEqual(['graphdistill', 'hkd', 'irg', 'ktg', 'lp', 'lsp', 'mhgd']);
    for (const s of Object.values(GRAPH_STRUCTURES)) expect(s.vertices.length * s.edges.length).toBeGreaterThan(0);
    expect(graphView([fab({ method: 'newgraph', family: 'graph', seed: 0, top1: 50 })])[0]!.structure).toBeNull();
  });
});

describe('extra numbers on method pages', () => {
  it('formats counts and sizes as integers, seconds with one decimal, accuracies with two', () => {
    expect(formatExtra('search_seconds', 13.34)).toBe('13.3');
    expect(formatExtra('model_bytes', 52000.4)).toBe('52000');
    expect(formatExtra('candidates', 3)).toBe('3');
    expect(formatExtra('budget_macs', 12e6)).toBe('12000000');
    expect(formatExtra('searched_params', 70000)).toBe('70000');
    expect(formatExtra('images_generated', 1100)).toBe('1100');
    expect(formatExtra('wbits', 4)).toBe('4');
    expect(formatExtra('abits', 8)).toBe('8');
    expect(formatExtra('searched_probe_top1', 41.5)).toBe('41.50');
    expect(formatExtra('acc_after_task_2', 65)).toBe('65.00');
  });
});

describe('view pages in the site (fabricated rows)', async () => {
  const out = tmp();
  const runs = tmp();
  const all = [...quantizedRows(), ...lifelongRows(), ...nasRows(), ...crossModalRows(), ...dataFreeRows(), ...graphRows(), ...refs()];
  // seed 0 of dafl wrote its grid (8 made-up bytes standing in for a PNG); seed 1's folder is empty; the nas run wrote its log
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const dafl0 = all.find((r) => r.method === 'dafl' && r.seed === 0)!;
  const dafl1 = all.find((r) => r.method === 'dafl' && r.seed === 1)!;
  const nas0 = all.find((r) => r.method === 'nasevo' && r.seed === 0)!;
  const ktgSearch = all.find((r) => r.method === 'ktg' && (r.hyperparameters ?? '').includes('"search":4'))!;
  mkdirSync(join(runs, dafl0.run_id), { recursive: true });
  mkdirSync(join(runs, dafl1.run_id), { recursive: true });
  mkdirSync(join(runs, nas0.run_id), { recursive: true });
  writeFileSync(join(runs, dafl0.run_id, 'synthesis.png'), png);
  writeFileSync(join(runs, 'escape.png'), png);
  writeFileSync(join(runs, nas0.run_id, 'nas-search.json'), '{"fabricated":true}');
  mkdirSync(join(runs, ktgSearch.run_id), { recursive: true });
  writeFileSync(join(runs, ktgSearch.run_id, 'ktg-graph.json'), '{"fabricated":true}');
  const site = await buildSite({ rows: all, methods: [KTG_META], outDir: out, runsDir: runs, generatedAt: 'test' });
  const html = (f: string) => readFileSync(join(out, f), 'utf8');
  const VIEWS = ['quantized.html', 'lifelong.html', 'nas.html', 'cross-modal.html', 'data-free.html', 'graph.html'];

  it('writes one page per family view, each under the protocol banner, linked from the index and the leaderboard', () => {
    for (const f of VIEWS) {
      expect(site.files, f).toContain(f);
      const p = html(f);
      expect(p.indexOf('class="protocol"'), f).toBeGreaterThan(0);
      expect(p.indexOf('class="protocol"'), `${f}: banner before the first table`).toBeLessThan(p.indexOf('<table'));
      expect(p, f).toContain('TEST DATA (fabricated for report view tests, not measured)');
      // data-free, quantized and lifelong methods rank on boards of their own; nas, cross-modal and graph on the main board
      const board = ['quantized.html', 'lifelong.html', 'data-free.html'].includes(f) ? `cifar100-quick-${f.replace('.html', '')}` : 'cifar100-quick';
      expect(p, f).toContain(`href="${board}.html"`);
      const ids = [...p.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
      expect(new Set(ids).size, `${f}: unique ids`).toBe(ids.length);
      expect(html('index.html'), f).toContain(`href="${f}"`);
      expect(html(`${board}.html`), f).toContain(`href="${f}#${board}"`);
    }
  });

  it('shows quantized sizes, compression, bits and means, and an accuracy-size chart with lines', () => {
    const p = html('quantized.html');
    const row = (method: string, bits: string) => p.split('<tr').find((r) => r.includes(`data-method="${method}" data-bits="${bits}"`))!;
    // qat W4A4: 52000 B = 50.8 KB, 312000 / 52000 = 6.0x, (55 + 57) / 2 = 56 ± 1.41
    expect(row('qat', 'W4A4')).toContain('>50.8<');
    expect(row('qat', 'W4A4')).toContain('>6.0×<');
    expect(row('qat', 'W4A4')).toContain('>56.00 ± 1.41<');
    expect(row('qat', 'W4A4')).toContain('>no KD<');
    expect(row('quantdistill', 'W2A8')).toContain('W2A8 (ternary weights)');
    expect(row('quantdistill', 'W2A8')).toContain('>10.0×<');
    // FP32 references at 4 bytes per parameter: 312000 B = 304.7 KB
    expect(row('vanilla', 'FP32')).toContain('>304.7<');
    expect(row('kd', 'FP32')).toContain('>61.00 ± 1.41<');
    const svg = p.slice(p.indexOf('<svg'), p.indexOf('</svg>'));
    expect(markGroups(svg, 'line').reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(markGroups(svg, 'symbol').reduce((a, b) => a + b, 0)).toBe(5); // qat W4, qd W4, qd W2, vanilla, kd
  });

  it('shows the lifelong summary and forgetting tables, the iCaRL note and the task curve', () => {
    const p = html('lifelong.html');
    const lwf = p.split('<tr').filter((r) => r.includes('data-method="lwf"'));
    expect(lwf[0]).toContain('>68.33 ± 7.07<');
    expect(lwf[0]).toContain('>55.00 ± 7.07<');
    expect(lwf[0]).toContain('>37.50 ± 3.54<');
    expect(lwf[1]).toMatch(/>50\.00 ± 0\.00<.*>25\.00 ± 7\.07<.*>37\.50 ± 3\.54</s);
    expect(p).toContain("iCaRL's headline is its nearest-mean-of-exemplars accuracy");
    const svg = p.slice(p.indexOf('<svg'), p.indexOf('</svg>'));
    expect(markGroups(svg, 'line').reduce((a, b) => a + b, 0)).toBe(3); // one line per method
  });

  it('shows each NAS run against the hand-made student and charts candidates, searched and hand-made students apart', () => {
    const p = html('nas.html');
    const run0 = p.split('<tr').find((r) => r.includes('data-method="nasevo" data-seed="0"'))!;
    expect(run0).toMatch(/>12\.3<.*>3<.*>11\.00<.*>70\.0<.*>resnet8<.*>12\.00<.*>78\.0<.*>61\.00 ± 1\.41<.*>58\.00 ± 1\.41<.*>61\.00<.*>\+0\.00</s);
    expect(run0).toContain(`href="artifacts/${nas0.run_id}/nas-search.json"`);
    const svg = p.slice(p.indexOf('<svg'), p.indexOf('</svg>'));
    // layers: 6 candidates, 2 searched students, the hand-made student's kd and vanilla points
    expect(markGroups(svg, 'symbol')).toEqual([6, 2, 2]);
  });

  it('shows the cross-modal modality x method table and the RGB references', () => {
    const p = html('cross-modal.html');
    const gray = p.split('<tr').find((r) => r.includes('data-modality="gray"'))!;
    expect(gray).toMatch(/>53\.00 ± n\/a <span class="muted small">\(1\)<\/span><\/td><td[^>]*>51\.00 ± 1\.41 <span class="muted small">\(2\)<\/span><\/td><td class="num muted" data-v="">—</);
    expect(p.split('<tr').find((r) => r.includes('data-reference="kd"'))).toContain('61.00 ± 1.41');
  });

  it('shows the graph methods with their vertices, edges and gains, the ktg networks and the learned modality weights', () => {
    const p = html('graph.html');
    const rows = p.split('<tr');
    const irg = rows.find((r) => r.includes('data-method="irg"'))!;
    expect(irg).toMatch(/>carries the knowledge<.*>resnet32 → resnet8<.*>rgb<.*>2<.*>64\.00 ± 1\.41<.*>\+6\.00<.*>\+3\.00</s);
    expect(irg).toContain(GRAPH_STRUCTURES.irg!.vertices.replaceAll("'", '&#39;'));
    const gd = rows.find((r) => r.includes('data-method="graphdistill"') && r.includes('data-role'))!;
    expect(gd).toMatch(/>controls the transfer<.*>gray<.*>55\.00 ± 1\.41<.*>−3\.00<.*>−6\.00</s);
    const ktg = rows.filter((r) => r.includes('data-method="ktg"') && !r.includes('data-role'));
    expect(ktg[0]).toMatch(/>ktg<.*0: student, 1: peer \(student architecture\), 2: teacher.*given: through through through.*node 1 \(peer \(student architecture\)\): 56\.00 ± 1\.41<br>node 2 \(teacher\): 66\.00 ± 0\.00/s);
    expect(ktg[1]).toMatch(/ktg \[search=4\].*searched: 4 random graphs by successive halving \(30\.0 ± n\/a s\); seed 0: candidate 2, held-out top-1 41\.50 after 4 epochs/s);
    expect(ktg[1]).toContain(`href="artifacts/${ktgSearch.run_id}/ktg-graph.json"`);
    const weights = rows.find((r) => r.includes('data-method="graphdistill"') && !r.includes('data-role'))!;
    // columns rgb first, then alphabetically: rgb 0.55 ± 0.071 (66), edge 0.2 (30), low8 0.25 ± 0.071 (41)
    expect(weights).toMatch(/data-modality="rgb"[^>]*>0\.550 ± 0\.071 <span class="muted small">\(66\.00\)<.*data-modality="edge"[^>]*>0\.200 ± 0\.000 .*\(30\.00\).*data-modality="low8"[^>]*>0\.250 ± 0\.071 .*\(41\.00\)/s);
    // per-candidate numbers stay off the method page
    expect(html('method-ktg.html')).not.toContain('candidate_2_top1');
  });

  it('copies the existing artifacts of the runs and shows the image grids', () => {
    const copied = join(out, 'artifacts', dafl0.run_id, 'synthesis.png');
    expect(existsSync(copied)).toBe(true);
    expect(readFileSync(copied)).toEqual(png);
    expect(site.files).toContain(`artifacts/${dafl0.run_id}/synthesis.png`);
    expect(existsSync(join(out, 'artifacts', dafl1.run_id))).toBe(false); // listed but absent: skipped
    expect(existsSync(join(out, 'artifacts', 'escape.png'))).toBe(false); // not a plain file name: never copied
    const p = html('data-free.html');
    // its references: the teacher and the vanilla student trained on the real images
    expect(p).toContain('References: teacher <strong>resnet32</strong> 66.00; vanilla <strong>resnet8</strong> on the real images 58.00 ± 1.41');
    expect(p).toContain(`<img src="artifacts/${dafl0.run_id}/synthesis.png" width="256" style="image-rendering:pixelated"`);
    expect(p).toContain('<figcaption>dafl, seed 0');
    expect((p.match(/<img /g) ?? []).length).toBe(1);
    expect(p.split('<tr').find((r) => r.includes('data-method="dafl"'))).toMatch(/>42\.00 ± 2\.83<.*>13\.3 ± 1\.4<.*>1100</s);
  });

  it('formats the extra numbers on the method pages and leaves the per-candidate ones to the NAS view', () => {
    const p = html('method-nasevo.html');
    expect(p).toMatch(/<code>search_seconds<\/code><\/td><td class="num">13\.3</);
    expect(p).toMatch(/<code>candidates<\/code><\/td><td class="num">3</);
    expect(p).toMatch(/<code>searched_probe_top1<\/code><\/td><td class="num">41\.50</);
    expect(p).not.toContain('candidate_0_top1');
    expect(html('method-dafl.html')).toMatch(/<code>images_generated<\/code><\/td><td class="num">1100</);
    expect(html('method-qat.html')).toMatch(/<code>model_bytes<\/code><\/td><td class="num">52000</);
  });

  it('writes a view page only for the families that have rows', async () => {
    const only = tmp();
    const res = await buildSite({ rows: [...lifelongRows(), ...refs()], outDir: only, generatedAt: 'test' });
    expect(VIEWS.filter((f) => res.files.includes(f))).toEqual(['lifelong.html']);
    expect(readFileSync(join(only, 'index.html'), 'utf8')).not.toContain('href="nas.html"');
    const none = tmp();
    const plain = await buildSite({ rows: testRows(), outDir: none, generatedAt: 'test' });
    expect(VIEWS.filter((f) => plain.files.includes(f))).toEqual([]);
    expect(readFileSync(join(none, 'cifar100-quick.html'), 'utf8')).not.toContain('class="family-views"');
  });
});
