/**
 * Charts: vega-lite specs compiled to vega and rendered to SVG at build time with vega's headless
 * View (renderer 'none', View.toSVG): no browser, no canvas, the SVG is inlined in the page.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { familyColorEncoding } from './colors.js';
import type { Leaderboard } from './leaderboard.js';

export interface Chart {
  id: string;
  title: string;
  /** What the chart shows, one line under it. */
  caption: string;
  svg: string;
}

const WIDTH = 420;
const CONFIG = {
  font: 'system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif',
  view: { stroke: '#ddd' },
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#eee', labelLimit: 260 },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 260 },
};

let chartCounter = 0;

/** Renders a vega-lite spec to an SVG string; element ids (clip paths, gradients) are made unique per chart. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const vgSpec = compile({ config: CONFIG, ...spec } as TopLevelSpec).spec;
  const view = new vega.View(vega.parse(vgSpec), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    const prefix = `c${++chartCounter}-`;
    return svg.replace(/\bid="([^"]+)"/g, `id="${prefix}$1"`).replace(/url\(#([^)]+)\)/g, `url(#${prefix}$1)`);
  } finally {
    view.finalize();
  }
}

/** Spec data of one leaderboard: one item per method/pair. */
function items(board: Leaderboard) {
  // a label-only row (vanilla) belongs to its student's pairs: it needs no pair in its label unless the students differ
  const teacherPairs = new Set(board.stats.filter((s) => s.teacher).map((s) => s.pair));
  const students = new Set(board.stats.map((s) => s.student));
  const multiPair = teacherPairs.size > 1 || students.size > 1;
  return board.stats.map((s) => {
    const band = s.ci ?? (s.n >= 2 ? s.range : null);
    return {
      label: multiPair ? `${s.name} (${s.pair})` : s.name,
      method: s.method,
      pair: s.pair,
      family: s.family,
      n: s.n,
      mean: round(s.mean),
      lo: band ? round(band[0]) : null,
      hi: band ? round(band[1]) : null,
      band: s.ci ? '95% t-interval' : s.n >= 2 ? `range of ${s.n} seeds` : 'one seed',
      gain: s.gain === null ? null : round(s.gain),
      mmacs: round(s.studentFlops / 1e6, 3),
      train: round(s.trainSeconds, 1),
      reference: s.reference,
    };
  });
}

const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

type Spec = { id: string; title: string; caption: string; spec: TopLevelSpec };

/** The charts of a board that have something to show (a chart with one value, or one point per line, is left out). */
export function chartSpecs(board: Leaderboard): Spec[] {
  const data = items(board);
  const familyColor = familyColorEncoding(data.map((d) => d.family));
  const sortedLabels = data.map((d) => d.label);
  const acc = board.metric === 'best_top1' ? 'top-1 (best epoch, %)' : 'top-1 (last epoch, %)';
  const height = Math.max(60, 22 * data.length);
  const perSeed = board.stats.flatMap((s, i) => s.values.map((v, j) => ({ label: data[i]!.label, family: s.family, seed: s.seeds[j], value: round(v) })));
  const specs: Spec[] = [];
  if (data.length >= 2) {
    specs.push({
      id: 'accuracy',
      title: 'Accuracy per method',
      caption: `Mean ${acc} over seeds (filled dot), each seed (open dot); bar: the 95% Student-t interval from 3 seeds on, clamped to [0, 100], else the range of the seeds.`,
      spec: {
        width: WIDTH, height,
        layer: [
          { data: { values: data.filter((d) => d.lo !== null) }, mark: { type: 'rule', strokeWidth: 2 }, encoding: { y: { field: 'label', type: 'nominal', sort: sortedLabels, title: null }, x: { field: 'lo', type: 'quantitative', scale: { zero: false }, title: acc }, x2: { field: 'hi' }, color: familyColor, tooltip: [{ field: 'label' }, { field: 'band' }, { field: 'lo' }, { field: 'hi' }] } },
          { data: { values: perSeed }, mark: { type: 'point', filled: false, size: 30, opacity: 0.8 }, encoding: { y: { field: 'label', type: 'nominal', sort: sortedLabels }, x: { field: 'value', type: 'quantitative' }, color: familyColor, tooltip: [{ field: 'label' }, { field: 'seed' }, { field: 'value' }] } },
          { data: { values: data }, mark: { type: 'point', filled: true, size: 70 }, encoding: { y: { field: 'label', type: 'nominal', sort: sortedLabels }, x: { field: 'mean', type: 'quantitative' }, color: familyColor, tooltip: [{ field: 'label' }, { field: 'mean' }, { field: 'n' }] } },
        ],
      },
    });
  }
  const gains = data.filter((d) => d.gain !== null && d.method !== 'vanilla');
  if (new Set(gains.map((d) => d.family)).size >= 2) {
    const gainColor = familyColorEncoding(gains.map((d) => d.family));
    specs.push({
      id: 'gain-family',
      title: 'Gain by family',
      caption: 'Gain = mean accuracy - mean vanilla accuracy of the same student; bars: family mean, dots: methods.',
      spec: {
        width: WIDTH, height: 220, data: { values: gains },
        layer: [
          { mark: { type: 'bar', opacity: 0.35 }, encoding: { x: { field: 'family', type: 'nominal', title: 'family', axis: { labelAngle: 0 } }, y: { aggregate: 'mean', field: 'gain', type: 'quantitative', title: 'gain over vanilla (points)' }, color: gainColor } },
          { mark: { type: 'point', filled: true, size: 60 }, encoding: { x: { field: 'family', type: 'nominal' }, y: { field: 'gain', type: 'quantitative' }, color: gainColor, tooltip: [{ field: 'label' }, { field: 'gain' }] } },
          { mark: { type: 'rule', color: '#888' }, encoding: { y: { datum: 0 } } },
        ],
      },
    });
  }
  if (new Set(data.map((d) => d.mmacs)).size >= 2) {
    specs.push({
      id: 'accuracy-macs',
      title: 'Accuracy against student MACs',
      caption: 'Student multiply-accumulates per 32x32 image at the protocol\'s width (student_flops), log scale.',
      spec: {
        width: WIDTH, height: 260, data: { values: data },
        layer: [
          { mark: { type: 'point', filled: true, size: 70 }, encoding: { x: { field: 'mmacs', type: 'quantitative', scale: { type: 'log' }, title: 'student MMACs / image' }, y: { field: 'mean', type: 'quantitative', scale: { zero: false }, title: acc }, color: familyColor, tooltip: [{ field: 'label' }, { field: 'mmacs' }, { field: 'mean' }] } },
          { mark: { type: 'text', align: 'left', dx: 6, fontSize: 10 }, encoding: { x: { field: 'mmacs', type: 'quantitative', scale: { type: 'log' } }, y: { field: 'mean', type: 'quantitative' }, text: { field: 'label' } } },
        ],
      },
    });
  }
  if (data.length >= 2) {
    specs.push({
      id: 'train-time',
      title: 'Training time per method',
      caption: 'Mean training seconds per run (student only; the teacher is trained once and reused).',
      spec: {
        width: WIDTH, height, data: { values: data },
        mark: 'bar',
        encoding: { y: { field: 'label', type: 'nominal', sort: { field: 'train', order: 'descending' }, title: null }, x: { field: 'train', type: 'quantitative', title: 'training time (s)' }, color: familyColor, tooltip: [{ field: 'label' }, { field: 'train' }] },
      },
    });
  }
  const trend = trendSeries(board);
  if (trend.length) {
    const runs = [...new Set(trend.map((t) => t.run))].sort();
    specs.push({
      id: 'trend',
      title: 'Trend over nightly runs',
      caption: `Mean ${acc} per run date and commit, one line per method and pair with at least two runs, coloured by family (hover a point for the method).`,
      spec: {
        width: WIDTH, height: 260, data: { values: trend },
        mark: { type: 'line', point: { filled: true, size: 50 } },
        encoding: {
          x: { field: 'run', type: 'ordinal', title: 'run (date, commit)', sort: runs, axis: { labelAngle: -30 } },
          y: { field: 'mean', type: 'quantitative', scale: { zero: false }, title: acc },
          color: familyColorEncoding(trend.map((t) => t.family)),
          detail: { field: 'label', type: 'nominal' },
          tooltip: [{ field: 'label' }, { field: 'run' }, { field: 'mean' }, { field: 'n' }],
        },
      },
    });
  }
  return specs;
}

/** Trend points of the series (method and pair) that have at least two runs, with their family. */
function trendSeries(board: Leaderboard) {
  const family = new Map(board.stats.map((s) => [s.method, s.family]));
  const runsOf = new Map<string, Set<string>>();
  for (const t of board.trend) runsOf.set(t.label, (runsOf.get(t.label) ?? new Set()).add(t.run));
  return board.trend.filter((t) => runsOf.get(t.label)!.size >= 2).map((t) => ({ ...t, mean: round(t.mean), family: family.get(t.method) ?? 'other' }));
}

export async function renderCharts(board: Leaderboard): Promise<Chart[]> {
  const out: Chart[] = [];
  for (const c of chartSpecs(board)) out.push({ id: c.id, title: c.title, caption: c.caption, svg: await renderSvg(c.spec) });
  return out;
}
