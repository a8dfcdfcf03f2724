import { describe, expect, it } from 'vitest';
import { buildLeaderboards } from '../src/leaderboard.js';
import type { ReportRow } from '../src/types.js';
import { testRows } from './fixtures.js';

describe('a results history (nightly runs of one grid)', () => {
  it('is summarised by its latest night per seed, while the trend keeps every night', () => {
    const base = testRows().filter((r) => r.dataset === 'cifar10');
    const kd = base.find((r) => r.method === 'kd')!;
    const earlier: ReportRow = { ...kd, run_id: `${kd.run_id}@night1`, last_top1: 70, date: '2026-11-20T02:00:00.000Z', git_commit: 'ddddddd4444444' };
    const [board] = buildLeaderboards([...base, earlier]);
    const stats = board!.stats.find((m) => m.method === 'kd')!;
    expect(stats.n).toBe(1);
    expect(stats.values).toEqual([kd.last_top1]);
    expect(board!.trend.filter((t) => t.method === 'kd').map((t) => t.mean)).toEqual([70, kd.last_top1]);
  });
});
