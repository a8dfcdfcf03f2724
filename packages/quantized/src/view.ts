/**
 * The quantized family's report view: accuracy against bits and model size, with and without KD.
 * `quantizedView(rows)` turns result rows into one table row per (dataset, protocol, student,
 * teacher, method, bit widths), over seeds. Quantized runs carry `model_bytes`, `wbits` and `abits` in
 * `details.extra` (their extraAccuracies); full-precision reference runs (`vanilla`, `kd` by default)
 * become W32A32 points at 4 bytes per parameter, the same accounting as quantize.ts at 32 bits.
 */

/** The result-row fields the view reads (a harness ResultRow or a report ReportRow has them). */
export interface QuantizedViewInput {
  readonly method: string;
  readonly dataset: string;
  readonly protocol: string;
  readonly student: string;
  readonly teacher: string;
  readonly seed: number;
  readonly last_top1: number;
  readonly best_top1: number;
  readonly student_params: number;
  /** JSON with `extra: { model_bytes, wbits, abits, ... }` for quantized runs. */
  readonly details: string;
}

export interface QuantizedViewRow {
  readonly dataset: string;
  readonly protocol: string;
  readonly student: string;
  /** '' for teacher-free runs (qat, vanilla). */
  readonly teacher: string;
  readonly method: string;
  /** Whether a teacher's knowledge is distilled (every method but qat and vanilla). */
  readonly kd: boolean;
  /** 'W4A4', 'W2A8' (ternary weights), 'FP32'. */
  readonly bits: string;
  readonly wbits: number;
  readonly abits: number;
  readonly ternary: boolean;
  readonly modelBytes: number;
  /** Full-precision size of the same student over this row's size (1 for FP32 rows). */
  readonly compression: number;
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
  readonly metric?: 'last_top1' | 'best_top1';
}

const NO_KD = new Set(['qat', 'vanilla']);

function extraOf(row: QuantizedViewInput): Record<string, unknown> {
  try {
    const d = JSON.parse(row.details) as { extra?: Record<string, unknown> };
    return d.extra ?? {};
  } catch {
    return {};
  }
}

export function bitsLabel(wbits: number, abits: number): string {
  return wbits >= 32 && abits >= 32 ? 'FP32' : `W${wbits}A${abits}`;
}

/** One row per configuration over seeds, sorted by dataset, protocol, student, size (largest first), KD, method. */
export function quantizedView(rows: readonly QuantizedViewInput[], opts: QuantizedViewOptions = {}): QuantizedViewRow[] {
  const references = new Set(opts.references ?? ['vanilla', 'kd']);
  const metric = opts.metric ?? 'last_top1';
  const groups = new Map<string, { base: Omit<QuantizedViewRow, 'seeds' | 'top1' | 'n' | 'mean' | 'std'>; bySeed: Map<number, number> }>();
  for (const r of rows) {
    const extra = extraOf(r);
    const fp32Bytes = 4 * r.student_params;
    let wbits: number;
    let abits: number;
    let modelBytes: number;
    if (typeof extra.wbits === 'number' && typeof extra.abits === 'number' && typeof extra.model_bytes === 'number') {
      ({ wbits, abits } = extra as { wbits: number; abits: number });
      modelBytes = extra.model_bytes as number;
    } else if (references.has(r.method)) {
      wbits = 32;
      abits = 32;
      modelBytes = fp32Bytes;
    } else {
      continue;
    }
    const key = JSON.stringify([r.dataset, r.protocol, r.student, r.teacher, r.method, wbits, abits]);
    let g = groups.get(key);
    if (!g) {
      g = {
        base: {
          dataset: r.dataset, protocol: r.protocol, student: r.student, teacher: r.teacher, method: r.method,
          kd: !NO_KD.has(r.method), bits: bitsLabel(wbits, abits), wbits, abits, ternary: wbits === 2, modelBytes,
          compression: modelBytes > 0 ? fp32Bytes / modelBytes : 1,
        },
        bySeed: new Map(),
      };
      groups.set(key, g);
    }
    g.bySeed.set(r.seed, r[metric]); // a later row of the same seed replaces an earlier one
  }
  const out = [...groups.values()].map(({ base, bySeed }): QuantizedViewRow => {
    const seeds = [...bySeed.keys()].sort((a, b) => a - b);
    const top1 = seeds.map((s) => bySeed.get(s)!);
    const n = top1.length;
    const mean = top1.reduce((a, b) => a + b, 0) / n;
    const std = n > 1 ? Math.sqrt(top1.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : null;
    return { ...base, seeds, top1, n, mean, std };
  });
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return out.sort((a, b) =>
    cmp(a.dataset, b.dataset) || cmp(a.protocol, b.protocol) || cmp(a.student, b.student)
    || b.modelBytes - a.modelBytes || Number(a.kd) - Number(b.kd) || cmp(a.method, b.method) || cmp(a.teacher, b.teacher));
}
