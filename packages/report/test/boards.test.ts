/** Boards of their own per track, per-row provenance and the training size. FABRICATED TEST DATA (made-up rows). */
import { describe, expect, it } from 'vitest';
import { buildLeaderboards, provenanceMix, provenanceOf, provenanceSets, trainImagesOf, type ReportRow } from '../src/index.js';

function fab(method: string, family: string, seed: number, acc: number, extra: Partial<ReportRow> = {}): ReportRow {
  const teacher = method === 'vanilla' || family === 'lifelong' ? '' : 'resnet20';
  return {
    run_id: `b-${method}-${seed}-${extra.git_commit ?? ''}`, method, family, knowledge: 'x', scheme: 'offline', dataset: 'cifar10', split: 'test', split_description: 'test [TEST DATA]',
    teacher, student: 'resnet8', protocol: 'quick', protocol_label: 'TEST DATA quick', seed, epochs: 12, best_top1: acc, last_top1: acc, train_seconds: 10,
    images_per_second: 100, backend: 'wasm', teacher_top1: teacher ? 61 : null, teacher_hash: teacher ? 'h1' : '', student_params: 1, student_flops: 1,
    git_commit: 'aaaaaaaaaaaa', date: '2026-11-28T00:00:00Z', details: '{}', ...extra,
  };
}

describe('boards of their own', () => {
  const rows = [
    ...[1, 2, 3].map((s) => fab('vanilla', 'baseline', s, 47 + s)), ...[1, 2, 3].map((s) => fab('kd', 'response', s, 52 + s)),
    ...[1, 2, 3].map((s) => fab('dafl', 'data-free', s, 14 + s)), ...[1, 2].map((s) => fab('qat', 'quantized', s, 40 + s)),
    ...[1, 2].map((s) => fab('lwf', 'lifelong', s, 30 + s)), ...[1, 2].map((s) => fab('joint', 'lifelong', s, 50 + s)),
  ];
  const boards = buildLeaderboards(rows);
  const byId = new Map(boards.map((b) => [b.id, b]));

  it('puts data-free, quantized and lifelong methods on boards of their own, with their references', () => {
    expect(boards.map((b) => b.id)).toEqual(['cifar10-quick', 'cifar10-quick-data-free', 'cifar10-quick-quantized', 'cifar10-quick-lifelong']);
    expect(byId.get('cifar10-quick')!.stats.map((s) => s.method)).toEqual(['kd', 'vanilla']);
    const df = byId.get('cifar10-quick-data-free')!;
    expect(df.stats.map((s) => `${s.method}${s.reference ? ' (ref)' : ''}`)).toEqual(['vanilla (ref)', 'dafl']);
    expect(df.teachers).toEqual([{ teacher: 'resnet20', mean: 61, n: 1 }]);
    expect(df.stats.find((s) => s.method === 'dafl')!.gain).toBeCloseTo(16 - 49, 12);
    expect(byId.get('cifar10-quick-quantized')!.stats.map((s) => `${s.method}${s.reference ? ' (ref)' : ''}`)).toEqual(['kd (ref)', 'vanilla (ref)', 'qat']);
    const ll = byId.get('cifar10-quick-lifelong')!;
    expect(ll.stats.map((s) => `${s.method}${s.reference ? ' (ref)' : ''}`)).toEqual(['joint (ref)', 'lwf']);
    expect(ll.teachers).toEqual([]);
  });

  it('ranks only the non-reference rows: groups from 3 seeds, bootstrap intervals from 2, order with 1', () => {
    const main = byId.get('cifar10-quick')!;
    expect(main.rankKind).toBe('group');
    expect(main.stats.find((s) => s.method === 'vanilla')!.rank).toBeNull();
    expect(main.stats.find((s) => s.method === 'kd')!.rank).toEqual({ point: 1, lo: 1, hi: 1 });
    expect(byId.get('cifar10-quick-quantized')!.rankKind).toBe('bootstrap');
    expect(buildLeaderboards([fab('kd', 'response', 1, 50), fab('dkd', 'response', 1, 51)])[0]!.rankKind).toBe('order');
  });

  it('gives no t-interval and no p-value below 3 seeds, and corrects the vs-KD p-values with Holm', () => {
    const two = buildLeaderboards([...[1, 2].map((s) => fab('kd', 'response', s, 50 + s)), ...[1, 2].map((s) => fab('dkd', 'response', s, 52 + s * 1.5))])[0]!;
    const dkd = two.stats.find((s) => s.method === 'dkd')!;
    expect(dkd.ci).toBeNull();
    expect(dkd.range).toEqual([53.5, 55]);
    expect(dkd.vsKd!.meanDiff).toBeCloseTo(2.75, 12); // (53.5 - 51 + 55 - 52) / 2
    expect(dkd.vsKd!.p).toBeNull();
    // three methods against KD over 3 seeds: d(dkd) = [1, 2, 3] -> t = 3.464102, p = 0.074180; d(at) = [-1, -1.5, -2] -> t = -1.5 / (0.5 / sqrt 3) = -5.196152, p = 1 - 5.196152 / sqrt 29 = 0.035099
    const three = buildLeaderboards([
      ...[1, 2, 3].map((s) => fab('kd', 'response', s, 50 + s)), ...[1, 2, 3].map((s) => fab('dkd', 'response', s, 50 + 2 * s)),
      ...[1, 2, 3].map((s) => fab('at', 'attention', s, 49.5 + 0.5 * s)),
    ])[0]!;
    const p = (m: string) => three.stats.find((s) => s.method === m)!.vsKd!;
    expect(p('dkd').p).toBeCloseTo(0.07418, 5);
    expect(p('at').p).toBeCloseTo(0.035099, 5);
    // Holm, m = 2: at 0.035099 x 2 = 0.070197; dkd max(0.070197, 0.074180 x 1) = 0.074180
    expect(p('at').pHolm).toBeCloseTo(0.070197, 5);
    expect(p('dkd').pHolm).toBeCloseTo(0.07418, 5);
  });
});

describe('the gain\'s interval over seeds', () => {
  it('is the t-interval of the per-seed differences from the vanilla student, on their common seeds, from 3 of them', () => {
    const vanilla = [48, 49, 53];
    const kd = [50, 52, 54]; // differences 2, 3, 1: mean 2, sd 1, half-width t(0.975, 2) / sqrt 3 = 4.302653 / 1.732051 = 2.484138
    const board = buildLeaderboards([
      ...vanilla.map((a, i) => fab('vanilla', 'baseline', i + 1, a)), ...kd.map((a, i) => fab('kd', 'response', i + 1, a)),
      ...[1, 2].map((s) => fab('dkd', 'response', s, 55)), // two seeds: no interval
      ...[2, 3, 4, 5].map((s) => fab('at', 'attention', s, 50 + s)), // 4 seeds, 2 of them shared with vanilla: no interval
    ])[0]!;
    const st = (m: string) => board.stats.find((s) => s.method === m)!;
    expect(st('kd').gain).toBeCloseTo(2, 12);
    expect(st('kd').gainCi![0]).toBeCloseTo(2 - 2.484138, 5);
    expect(st('kd').gainCi![1]).toBeCloseTo(2 + 2.484138, 5);
    expect(st('dkd').gainCi).toBeNull();
    expect(st('at').gainCi).toBeNull();
    expect(st('vanilla').gainCi).toBeNull();
  });
});

describe('provenance per row', () => {
  it('derives commit, dirty flag, backend and kernel set from older rows, and reads the recorded ones', () => {
    expect(provenanceOf({ git_commit: 'c24fd52f01b2+dirty', backend: 'wasm+native', details: '{}' })).toEqual({ commit: 'c24fd52f01b2', dirty: true, diff: null, backend: 'wasm', kernels: 'wasm+native' });
    expect(provenanceOf({ git_commit: 'unknown', backend: 'wasm', details: 'not json' })).toEqual({ commit: 'unknown', dirty: false, diff: null, backend: 'wasm', kernels: 'wasm' });
    const recorded = { commit: '0123456789ab', dirty: true, diff: 'ffeeddccbbaa', backend: 'wasm', kernels: 'wasm+native' };
    expect(provenanceOf({ git_commit: '0123456789ab+dirty', backend: 'wasm+native', details: JSON.stringify({ provenance: recorded }) })).toEqual(recorded);
  });

  it('tags the distinct sets of a board, tags each row, and says what the board mixes', () => {
    const rows = [
      ...[1, 2].map((s) => fab('kd', 'response', s, 50)), fab('vanilla', 'baseline', 1, 45, { git_commit: 'bbbbbbbbbbbb+dirty', backend: 'wasm+native' }),
      fab('vanilla', 'baseline', 2, 46),
    ];
    const sets = provenanceSets(rows);
    expect(sets.map((p) => `${p.tag} ${p.commit} ${p.dirty} ${p.kernels} ${p.runs}`)).toEqual(['P1 aaaaaaaaaaaa false wasm 3', 'P2 bbbbbbbbbbbb true wasm+native 1']);
    expect(provenanceMix(sets)).toEqual(['2 commits', '1 of 4 runs from checkouts with uncommitted changes', '2 kernel sets (wasm, wasm+native)']);
    const [board] = buildLeaderboards(rows);
    expect(board!.stats.find((s) => s.method === 'vanilla')!.provenance).toEqual(['P1', 'P2']);
    expect(board!.stats.find((s) => s.method === 'kd')!.provenance).toEqual(['P1']);
    expect(provenanceMix(provenanceSets(rows.slice(0, 2)))).toEqual([]);
  });
});

describe('training size', () => {
  it('reads details.trainImages, else images/s x train seconds / epochs run', () => {
    const r = fab('kd', 'response', 1, 50);
    expect(trainImagesOf({ ...r, details: JSON.stringify({ trainImages: 8000 }) })).toBe(8000);
    // 625.1343 images/s x 153.567 s = 96,000 images over 12 epochs = 8,000 per epoch
    expect(trainImagesOf({ ...r, images_per_second: 625.1343061985973, train_seconds: 153.567, details: JSON.stringify({ history: Array(12).fill({}) }) })).toBe(8000);
    expect(trainImagesOf(r)).toBeNull();
  });
});
