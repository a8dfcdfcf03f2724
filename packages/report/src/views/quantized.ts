/**
 * quantized.html: accuracy against bits and model size, with and without KD (family 'quantized':
 * qat, quantdistill, apprentice, qkd). `quantizedView(rows)` turns result rows into one row per
 * (dataset, protocol, student, teacher, method setting, bit widths) over seeds. Quantized runs carry
 * `model_bytes`, `wbits` and `abits` in `details.extra` (else the bits come from the `wbits`/`abits`
 * hyperparameters and the size is unknown); full-precision reference runs (`vanilla`, `kd` by
 * default) of the same student are FP32 points at 4 bytes per parameter (student_params * 4), the
 * accounting the quantized package uses at 32 bits.
 */
import { renderSvg } from '../charts.js';
import { dv, esc, fmt, protocolBanner } from '../html.js';
import { methodPageFile } from '../method-pages.js';
import type { MethodMeta, Metric, ReportRow } from '../types.js';
import { boardsWith, elementId, extraOf, figure, hpKey, hpOf, methodName, round, sectionHead, uniq, variantName, type FamilyView } from './common.js';

/** The result-row fields the view reads. */
export type QuantizedViewInput = Pick<ReportRow, 'method' | 'dataset' | 'protocol' | 'student' | 'teacher' | 'seed' | 'last_top1' | 'best_top1' | 'student_params' | 'details'>
  & Partial<Pick<ReportRow, 'family' | 'hyperparameters' | 'date'>>;

export interface QuantizedViewRow {
  readonly dataset: string;
  readonly protocol: string;
  readonly student: string;
  /** '' for teacher-free runs (qat, vanilla). */
  readonly teacher: string;
  readonly method: string;
  /** Hyperparameters other than the bit widths that differ from the method's defaults ('' without metadata). */
  readonly variant: string;
  /** The method with its variant. */
  readonly name: string;
  /** Whether a teacher's knowledge is distilled (every method but qat and vanilla). */
  readonly kd: boolean;
  /** A full-precision reference run (vanilla, kd), not a quantized one. */
  readonly reference: boolean;
  /** 'W8A8', 'W4A4', 'W2A8', 'FP32'. */
  readonly bits: string;
  readonly wbits: number;
  readonly abits: number;
  /** 2-bit weights are ternary ({-a, 0, +a}). */
  readonly ternary: boolean;
  /** Stored model size; null when the run did not report it. */
  readonly modelBytes: number | null;
  /** Full-precision size of the same student (4 bytes per parameter) over this row's size (1 for FP32 rows). */
  readonly compression: number | null;
  readonly seeds: number[];
  /** Accuracy of each seed (same order as `seeds`), in percent. */
  readonly top1: number[];
  readonly n: number;
  readonly mean: number;
  /** Sample standard deviation over seeds; null with one seed. */
  readonly std: number | null;
}

export interface QuantizedViewOptions {
  /** Full-precision methods shown as 32-bit reference points (default vanilla and kd). */
  readonly references?: readonly string[];
  /** Accuracy column (default last_top1, the CRD convention). */
  readonly metric?: Metric;
  /** Method metadata, to name settings that differ from the defaults. */
  readonly meta?: ReadonlyMap<string, MethodMeta>;
}

const NO_KD = new Set(['qat', 'vanilla']);
const BIT_KEYS = ['wbits', 'abits'];

export function bitsLabel(wbits: number, abits: number): string {
  return wbits >= 32 && abits >= 32 ? 'FP32' : `W${wbits}A${abits}`;
}

/** The bits label as printed: ternary weights said in words. */
export const bitsText = (r: Pick<QuantizedViewRow, 'bits' | 'ternary'>) => (r.ternary ? `${r.bits} (ternary weights)` : r.bits);

/** Bit widths from the hyperparameters (abits 0 = wbits, or 8 under ternary weights), as the quantized methods resolve them. */
function bitsFromHp(r: QuantizedViewInput): { wbits: number; abits: number } | null {
  const hp = hpOf(r);
  const w = Number(hp.wbits);
  if (hp.wbits === undefined || !Number.isFinite(w)) return null;
  const a = Number(hp.abits ?? 0);
  return { wbits: w, abits: a === 0 || !Number.isFinite(a) ? (w === 2 ? 8 : w) : a };
}

/** One row per configuration over seeds, sorted by dataset, protocol, student, size (largest first), KD, method. */
export function quantizedView(rows: readonly QuantizedViewInput[], opts: QuantizedViewOptions = {}): QuantizedViewRow[] {
  const references = new Set(opts.references ?? ['vanilla', 'kd']);
  const metric = opts.metric ?? 'last_top1';
  const meta = opts.meta ?? new Map<string, MethodMeta>();
  type Base = Omit<QuantizedViewRow, 'seeds' | 'top1' | 'n' | 'mean' | 'std'>;
  const groups = new Map<string, { base: Base; bySeed: Map<number, { top1: number; date: string }> }>();
  for (const r of rows) {
    const extra = extraOf(r);
    const fp32Bytes = 4 * r.student_params;
    let wbits: number;
    let abits: number;
    let modelBytes: number | null;
    let reference = false;
    const reported = typeof extra.wbits === 'number' && typeof extra.abits === 'number';
    const fromHp = r.family === 'quantized' && !reported ? bitsFromHp(r) : null;
    if (reported) {
      wbits = extra.wbits!;
      abits = extra.abits!;
      modelBytes = typeof extra.model_bytes === 'number' ? extra.model_bytes : null;
    } else if (fromHp) {
      ({ wbits, abits } = fromHp);
      modelBytes = null;
    } else if (references.has(r.method) && r.family !== 'quantized') {
      wbits = 32;
      abits = 32;
      modelBytes = fp32Bytes;
      reference = true;
    } else {
      continue;
    }
    const variant = variantName(r, meta, BIT_KEYS);
    const key = JSON.stringify([r.dataset, r.protocol, r.student, r.teacher, r.method, hpKey(r, BIT_KEYS), wbits, abits]);
    let g = groups.get(key);
    if (!g) {
      g = {
        base: {
          dataset: r.dataset, protocol: r.protocol, student: r.student, teacher: r.teacher, method: r.method, variant, name: methodName(r.method, variant),
          kd: !NO_KD.has(r.method), reference, bits: bitsLabel(wbits, abits), wbits, abits, ternary: wbits === 2, modelBytes,
          compression: modelBytes !== null && modelBytes > 0 && fp32Bytes > 0 ? fp32Bytes / modelBytes : null,
        },
        bySeed: new Map(),
      };
      groups.set(key, g);
    }
    // the newest row of a repeated seed replaces older ones (rows without dates: the later one)
    const prev = g.bySeed.get(r.seed);
    if (!prev || (r.date ?? '') >= prev.date) g.bySeed.set(r.seed, { top1: r[metric], date: r.date ?? '' });
  }
  const out = [...groups.values()].map(({ base, bySeed }): QuantizedViewRow => {
    const seeds = [...bySeed.keys()].sort((a, b) => a - b);
    const top1 = seeds.map((s) => bySeed.get(s)!.top1);
    const n = top1.length;
    const mean = top1.reduce((a, b) => a + b, 0) / n;
    const std = n > 1 ? Math.sqrt(top1.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : null;
    return { ...base, seeds, top1, n, mean, std };
  });
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return out.sort((a, b) =>
    cmp(a.dataset, b.dataset) || cmp(a.protocol, b.protocol) || cmp(a.student, b.student)
    || (b.modelBytes ?? -1) - (a.modelBytes ?? -1) || Number(a.kd) - Number(b.kd) || cmp(a.name, b.name) || cmp(a.teacher, b.teacher));
}

function table(id: string, rows: QuantizedViewRow[]): string {
  const body = rows.map((r) => `<tr class="${r.reference ? 'ref' : ''}" data-method="${esc(r.method)}" data-bits="${esc(r.bits)}"><td><a href="${esc(methodPageFile(r.method))}">${esc(r.name)}</a></td><td>${esc(r.teacher || '—')}</td><td>${r.kd ? 'KD' : 'no KD'}</td><td data-v="${r.wbits * 100 + r.abits}">${esc(bitsText(r))}</td>
<td class="num" data-v="${dv(r.modelBytes)}">${r.modelBytes === null ? 'n/a' : fmt(r.modelBytes / 1024, 1)}</td><td class="num" data-v="${dv(r.compression)}">${r.compression === null ? 'n/a' : `${fmt(r.compression, 1)}×`}</td>
<td class="num" data-v="${dv(r.mean)}">${fmt(r.mean)} ± ${fmt(r.std)}</td><td class="num" data-v="${r.n}" title="seeds ${esc(r.seeds.join(', '))}">${r.n}</td></tr>`);
  return `<div class="scroll"><table id="${esc(id)}" class="sortable quantized"><thead><tr><th>method</th><th>teacher</th><th>KD</th><th>bits</th><th class="num">model size (KB)</th><th class="num">compression vs FP32</th><th class="num">top-1 mean ± std</th><th class="num">seeds</th></tr></thead>
<tbody>${body.join('\n')}</tbody></table></div>`;
}

async function chart(id: string, rows: QuantizedViewRow[], metric: Metric): Promise<string> {
  const values = rows.filter((r) => r.modelBytes !== null).map((r) => ({
    method: r.teacher && rows.some((o) => o.name === r.name && o.teacher !== r.teacher) ? `${r.name} (${r.teacher})` : r.name,
    kb: round(r.modelBytes! / 1024, 3), mean: round(r.mean), std: r.std === null ? null : round(r.std), bits: r.bits, n: r.n,
  }));
  const acc = metric === 'best_top1' ? 'top-1, best epoch (%)' : 'top-1, last epoch (%)';
  const x = { field: 'kb', type: 'quantitative', scale: { type: 'log' }, title: 'model size (KB, log scale)' } as const;
  const y = { field: 'mean', type: 'quantitative', scale: { zero: false }, title: `${acc}, mean over seeds` } as const;
  const svg = await renderSvg({
    width: 520, height: 280, data: { values },
    layer: [
      { mark: { type: 'line', point: { filled: true, size: 60 } }, encoding: { x, y, color: { field: 'method', type: 'nominal', title: 'method', scale: { scheme: 'tableau10' } }, order: { field: 'kb', type: 'quantitative' }, tooltip: [{ field: 'method' }, { field: 'bits' }, { field: 'kb', title: 'KB' }, { field: 'mean' }, { field: 'std' }, { field: 'n', title: 'seeds' }] } },
      { mark: { type: 'text', align: 'left', dx: 6, dy: -6, fontSize: 10 }, encoding: { x, y, text: { field: 'bits' } } },
    ],
  });
  return figure(id, 'Accuracy against model size', svg, 'One line per method through its bit widths (FP32 references: vanilla and kd of the same student at 4 bytes per parameter); x: stored model size, log scale.');
}

const TITLE = 'Quantized students: accuracy against bits and model size';

export const quantizedPage: FamilyView = {
  id: 'quantized',
  family: 'quantized',
  title: TITLE,
  blurb: 'low-bit students with and without KD against their full-precision references',
  async render(ctx) {
    const sections: string[] = [];
    for (const b of boardsWith(ctx.boards, 'quantized')) {
      const rows = quantizedView(b.rows, { metric: ctx.metric, meta: ctx.meta });
      const parts: string[] = [];
      for (const student of uniq(rows.filter((r) => !r.reference).map((r) => r.student))) {
        const mine = rows.filter((r) => r.student === student);
        const id = elementId('quantized', b.id, student);
        parts.push(`<h3>Student ${esc(student)}</h3>
${table(id, mine)}
${await chart(`chart-${id}`, mine, ctx.metric)}`);
      }
      sections.push(`${sectionHead(b, protocolBanner(b.protocol))}
${parts.join('\n')}`);
    }
    return `<h1>${esc(TITLE)}</h1>
<p>Each row: a method at one bit setting on one student, over seeds. Bits: W<em>w</em>A<em>a</em> = <em>w</em>-bit weights, <em>a</em>-bit activations; W2 weights are ternary. Model size: the stored size the method reports (<code>model_bytes</code>); FP32 references are the vanilla and KD runs of the same student at 4 bytes per parameter. Compression: the student's FP32 size over the row's size. KD: whether a teacher is distilled (qat trains the quantized student from labels alone).</p>
${sections.join('\n')}
<p class="small muted">top-1: mean ± sample std over seeds (± n/a with one seed); hover the seeds cell for the seed list.</p>`;
  },
};
