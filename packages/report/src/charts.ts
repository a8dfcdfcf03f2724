/**
 * Charts: vega-lite specs compiled to vega and rendered to SVG at build time with vega's headless
 * View (renderer 'none', View.toSVG): no browser, no canvas, the SVG is inlined in the page.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { Leaderboard } from './leaderboard.js';

export interface Chart {
  id: string;
  title: string;
  /** What the chart shows, one line under it. */
  caption: string;
  svg: string;
}

const WIDTH = 520;
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
  const multiPair = new Set(board.stats.map((s) => s.pair)).size > 1;
  return board.stats.map((s) => ({
    label: multiPair ? `${s.name} (${s.pair})` : s.name,
    method: s.method,
    pair: s.pair,
    family: s.family,
    n: s.n,
    mean: round(s.mean),
    lo: s.ci ? round(s.ci[0]) : round(s.mean),
    hi: s.ci ? round(s.ci[1]) : round(s.mean),
    gain: s.gain === null ? null : round(s.gain),
    mmacs: round(s.studentFlops / 1e6, 3),
    train: round(s.trainSeconds, 1),
  }));
}

const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
/** Family colours, fixed per leaderboard so a family has the same colour in every chart. */
const familyColorOf = (families: string[]) => ({ field: 'family', type: 'nominal', title: 'family', scale: { domain: families, scheme: 'tableau10' } }) as const;

export function chartSpecs(board: Leaderboard): { id: string; title: string; caption: string; spec: TopLevelSpec }[] {
  const data = items(board);
  const familyColor = familyColorOf([...new Set(data.map((d) => d.family))].sort());
  const sortedLabels = data.map((d) => d.label);
  const acc = board.metric === 'best_top1' ? 'top-1 (best epoch, %)' : 'top-1 (last epoch, %)';
  const height = Math.max(60, 22 * data.length);
  const specs: { id: string; title: string; caption: string; spec: TopLevelSpec }[] = [
    {
      id: 'accuracy',
      title: 'Accuracy per method',
      caption: `Mean ${acc} over seeds; bars: 95% Student-t interval (none with one seed).`,
      spec: {
        width: WIDTH, height, data: { values: data },
        layer: [
          { mark: { type: 'rule', strokeWidth: 2 }, encoding: { y: { field: 'label', type: 'nominal', sort: sortedLabels, title: null }, x: { field: 'lo', type: 'quantitative', scale: { zero: false }, title: acc }, x2: { field: 'hi' }, color: familyColor } },
          { mark: { type: 'point', filled: true, size: 70 }, encoding: { y: { field: 'label', type: 'nominal', sort: sortedLabels }, x: { field: 'mean', type: 'quantitative' }, color: familyColor, tooltip: [{ field: 'label' }, { field: 'mean' }, { field: 'lo' }, { field: 'hi' }, { field: 'n' }] } },
        ],
      },
    },
    {
      id: 'gain-family',
      title: 'Gain by family',
      caption: 'Gain = mean accuracy - mean vanilla accuracy of the same student; bars: family mean, dots: methods.',
      spec: {
        width: WIDTH, height: 220, data: { values: data.filter((d) => d.gain !== null && d.method !== 'vanilla') },
        layer: [
          { mark: { type: 'bar', opacity: 0.35 }, encoding: { x: { field: 'family', type: 'nominal', title: 'family', axis: { labelAngle: 0 } }, y: { aggregate: 'mean', field: 'gain', type: 'quantitative', title: 'gain over vanilla (points)' }, color: familyColor } },
          { mark: { type: 'point', filled: true, size: 60 }, encoding: { x: { field: 'family', type: 'nominal' }, y: { field: 'gain', type: 'quantitative' }, color: familyColor, tooltip: [{ field: 'label' }, { field: 'gain' }] } },
          { mark: { type: 'rule', color: '#888' }, encoding: { y: { datum: 0 } } },
        ],
      },
    },
    {
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
    },
    {
      id: 'train-time',
      title: 'Training time per method',
      caption: 'Mean training seconds per run (student only; the teacher is trained once and reused).',
      spec: {
        width: WIDTH, height, data: { values: data },
        mark: 'bar',
        encoding: { y: { field: 'label', type: 'nominal', sort: { field: 'train', order: 'descending' }, title: null }, x: { field: 'train', type: 'quantitative', title: 'training time (s)' }, color: familyColor, tooltip: [{ field: 'label' }, { field: 'train' }] },
      },
    },
    {
      id: 'trend',
      title: 'Trend over nightly runs',
      caption: `Mean ${acc} per run date and commit, one line per method and pair.`,
      spec: {
        width: WIDTH, height: 260, data: { values: board.trend.map((t) => ({ ...t, mean: round(t.mean) })) },
        mark: { type: 'line', point: { filled: true, size: 50 } },
        encoding: {
          x: { field: 'run', type: 'ordinal', title: 'run (date, commit)', sort: [...new Set(board.trend.map((t) => t.run))], axis: { labelAngle: -30 } },
          y: { field: 'mean', type: 'quantitative', scale: { zero: false }, title: acc },
          color: { field: 'label', type: 'nominal', title: 'method (pair)', scale: { scheme: 'tableau20' } },
          tooltip: [{ field: 'label' }, { field: 'run' }, { field: 'mean' }, { field: 'n' }],
        },
      },
    },
  ];
  return specs;
}

export async function renderCharts(board: Leaderboard): Promise<Chart[]> {
  const out: Chart[] = [];
  for (const c of chartSpecs(board)) out.push({ id: c.id, title: c.title, caption: c.caption, svg: await renderSvg(c.spec) });
  return out;
}
