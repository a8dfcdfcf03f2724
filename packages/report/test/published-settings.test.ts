/**
 * A published row that names a method in another setting (HKD's "HKD+KD": hkd with alpha 1) is
 * compared with the rows run in that setting only, and its setting's rows are not compared with the
 * method's default row (HKD). FABRICATED TEST DATA (made-up accuracies, labelled as such).
 */
import { describe, expect, it } from 'vitest';
import { agreements, buildLeaderboards, compare, loadPublished, settingVariants, type DeclaredSetting, type MethodMeta, type ReportRow } from '../src/index.js';

const LABEL = 'TEST DATA (fabricated for the published-settings test, not measured) · quick';
const METHODS: MethodMeta[] = [
  ['vanilla', 'baseline', {}],
  ['kd', 'response', { T: 4, alpha: 0.9 }],
  ['hkd', 'graph', { gamma: 1, alpha: 0, beta: 3 }],
].map(([id, family, defaults]) => ({ id, title: `${id} (test title)`, family, knowledge: 'relation', scheme: 'offline', paper: null, defaults } as MethodMeta));
const meta = new Map(METHODS.map((m) => [m.id, m]));

function row(method: string, seed: number, acc: number, over: Record<string, unknown> = {}): ReportRow {
  const hp = { ...meta.get(method)!.defaults, ...over };
  return {
    run_id: `ps-${method}-${JSON.stringify(over)}-${seed}`, method, family: meta.get(method)!.family, knowledge: 'relation', scheme: 'offline',
    dataset: 'cifar100', split: 'holdout', split_description: 'holdout [TEST DATA]', teacher: method === 'vanilla' ? '' : 'vgg13', student: 'mobilenetv2',
    protocol: 'quick', protocol_label: LABEL, seed, epochs: 12, best_top1: acc, last_top1: acc, train_seconds: 10, images_per_second: 100,
    backend: 'wasm+native', teacher_top1: 38, student_params: 1, student_flops: 1, git_commit: 'abc123def456', date: '2026-12-07T00:00:00Z',
    hyperparameters: JSON.stringify(hp), details: '{}',
  };
}
const rows = [1, 2, 3].flatMap((s) => [row('vanilla', s, 11), row('kd', s, 13), row('hkd', s, 3), row('hkd', s, 11.2, { alpha: 1 })]);
const published = loadPublished();
// what graph-cifar100.yaml declares for its HKD+KD pair
const declared: DeclaredSetting[] = [{ dataset: 'cifar100', teacher: 'vgg13', student: 'mobilenetv2', method: 'hkd', hyperparameters: { alpha: 1 }, declaredIn: 'benchmarks/graph-cifar100.yaml:44' }];

const matches = (settings: ReturnType<typeof settingVariants>) => buildLeaderboards(rows, METHODS)
  .flatMap((b) => compare(b, published, [], settings))
  .filter((c) => c.published?.table === 'hkd' || c.published === null)
  .map((c) => `${c.stats.name} -> ${c.published ? `${c.published.method} ${c.published.distilledAcc}` : '-'}`)
  .sort();

describe('published rows with a setting of their own', () => {
  it('HKD+KD is hkd with alpha 1; the settings list names it with its table', () => {
    const own = settingVariants([], meta, published).filter((s) => s.published);
    expect(own.map((s) => `${s.method} [${s.variant}] ${s.teacher}->${s.student} (${s.declaredIn})`)).toContain('hkd [alpha=1] vgg13->mobilenetv2 (hkd: HKD+KD)');
    expect(own.every((s) => s.published!.method === 'HKD+KD')).toBe(true);
  });

  it('the alpha-1 rows match HKD+KD only, the default rows HKD only, with or without the suite declaring alpha 1', () => {
    for (const settings of [settingVariants(declared, meta, published), settingVariants([], meta, published)]) {
      expect(matches(settings).filter((m) => m.startsWith('hkd'))).toEqual(['hkd -> HKD 69.97', 'hkd [alpha=1] -> HKD+KD 70.48']);
    }
  });

  it('the agreement with the HKD table keeps the two hkd settings apart: each published row points at its own measured rank', () => {
    const cmp = buildLeaderboards(rows, METHODS).flatMap((b) => compare(b, published, [], settingVariants(declared, meta, published)));
    const box = agreements(cmp, published).find((a) => a.table === 'hkd')!;
    expect(box.n).toBe(4);
    const measuredRank = new Map(box.measured.map((o, i) => [o.key, i + 1]));
    // published: HKD+KD 70.48, HKD 69.97, KD 68.08, Student 65.33; measured: kd 13, hkd [alpha=1] 11.2, vanilla 11, hkd 3
    expect(box.published.map((o) => `${o.name} #${measuredRank.get(o.key)}`)).toEqual(['HKD+KD #2', 'HKD #4', 'KD #1', 'Student #3']);
  });
});
