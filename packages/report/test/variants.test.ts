/** Runs with non-default hyperparameters are separate leaderboard entries; methods' extra numbers reach their pages. */
import { describe, expect, it } from 'vitest';
import { buildLeaderboards, variantOf, type MethodMeta, type ReportRow } from '../src/index.js';
import { methodPageBody } from '../src/method-pages.js';

const META: MethodMeta[] = [
  { id: 'vanilla', title: 'Vanilla', family: 'baseline', knowledge: 'none', scheme: 'offline', paper: null, defaults: {} },
  { id: 'kd', title: 'KD', family: 'response', knowledge: 'response', scheme: 'offline', paper: null, defaults: { T: 4, alpha: 0.9 } },
  { id: 'dml', title: 'DML', family: 'online', knowledge: 'response', scheme: 'online', paper: null, defaults: { peers: 2 } },
] as MethodMeta[];

// FABRICATED TEST DATA: made-up accuracies to exercise grouping, not measurements.
function row(method: string, seed: number, acc: number, hp: Record<string, unknown>, extra: Record<string, number> = {}): ReportRow {
  return {
    run_id: `${method}-${JSON.stringify(hp)}-${seed}`, method, family: 'x', knowledge: 'x', scheme: 'x', dataset: 'cifar10', split: 'test',
    split_description: 'test', teacher: method === 'vanilla' || method === 'dml' ? '' : 'resnet20', student: 'resnet8', protocol: 'quick',
    protocol_label: 'TEST DATA', seed, epochs: 1, best_top1: acc, last_top1: acc, train_seconds: 1, images_per_second: 1, backend: 'cpu',
    teacher_top1: null, student_params: 1, student_flops: 1, git_commit: 'c', date: '2026-11-27T00:00:00Z',
    details: JSON.stringify({ extra }), hyperparameters: JSON.stringify(hp),
  };
}

describe('method variants', () => {
  it('names the hyperparameters that differ from the defaults, in key order', () => {
    const meta = new Map(META.map((m) => [m.id, m]));
    expect(variantOf({ method: 'kd', hyperparameters: '{"alpha":0.9,"T":4}' }, meta)).toBe('');
    expect(variantOf({ method: 'kd', hyperparameters: '{"alpha":0.5,"T":2}' }, meta)).toBe('T=2, alpha=0.5');
    expect(variantOf({ method: 'kd' }, meta)).toBe('');
    expect(variantOf({ method: 'kd', hyperparameters: '{}' }, meta)).toBe(''); // records none at all: nothing to tell
    expect(variantOf({ method: 'unknown', hyperparameters: '{"a":1}' }, meta)).toBe('');
    // a row recorded before a hyperparameter existed is its own variant, never pooled with the current default
    expect(variantOf({ method: 'kd', hyperparameters: '{"alpha":0.5}' }, meta)).toBe('T=(not recorded), alpha=0.5');
  });

  it('keeps variants apart, compares each against default KD, and averages extra numbers per entry', async () => {
    const rows = [
      row('vanilla', 1, 50, {}), row('vanilla', 2, 52, {}),
      row('kd', 1, 55, { T: 4, alpha: 0.9 }), row('kd', 2, 57, { T: 4, alpha: 0.9 }),
      row('kd', 1, 53, { T: 2, alpha: 0.9 }), row('kd', 2, 54, { T: 2, alpha: 0.9 }),
      row('dml', 1, 56, { peers: 2 }, { peer1: 55 }), row('dml', 2, 58, { peers: 2 }, { peer1: 57 }),
    ];
    const [board] = buildLeaderboards(rows, META);
    const names = board!.stats.map((s) => s.name);
    expect(names).toEqual(['dml', 'kd', 'kd [T=2]', 'vanilla']);
    const variant = board!.stats.find((s) => s.variant === 'T=2')!;
    expect(variant.mean).toBe(53.5);
    expect(variant.gain).toBe(2.5);
    expect(variant.vsKd?.meanDiff).toBe(-2.5); // against the default KD entry, seed by seed
    expect(board!.stats.find((s) => s.name === 'kd')!.vsKd).toBeNull();
    expect(board!.stats.find((s) => s.method === 'dml')!.extras).toEqual({ peer1: { mean: 56, n: 2 } });
    const page = await methodPageBody(META[2]!, [board!], new Map(), []);
    expect(page).toContain('Other numbers it reports');
    expect(page).toMatch(/<code>peer1<\/code><\/td><td class="num">56\.0/);
  });
});
