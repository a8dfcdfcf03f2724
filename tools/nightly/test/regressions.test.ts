import { describe, expect, it } from 'vitest';
import { compareNights, type NightRow } from '../regressions.js';

const row = (method: string, seed: number, last: number): NightRow => ({
  dataset: 'cifar10', protocol: 'smoke', teacher: 'resnet8', student: 'resnet8', method, seed, best_top1: last, last_top1: last,
});

describe('nightly regression check', () => {
  it('flags a method whose mean falls below the previous nightly 95% Student-t interval', () => {
    const previous = [row('kd', 1, 70), row('kd', 2, 71), row('kd', 3, 72), row('dkd', 1, 70), row('dkd', 2, 71), row('dkd', 3, 72)];
    // kd: previous mean 71, std 1, t(0.975, 2) = 4.303 -> CI [68.52, 73.48]
    const current = [row('kd', 1, 68), row('kd', 2, 68.2), row('kd', 3, 68.4), row('dkd', 1, 69), row('dkd', 2, 69.5), row('dkd', 3, 70), row('at', 1, 50)];
    const c = compareNights(current, previous);
    const verdict = Object.fromEntries(c.map((x) => [x.key.split(' ')[2], x.verdict]));
    expect(verdict).toEqual({ kd: 'regression', dkd: 'ok', at: 'new' });
    const kd = c.find((x) => x.key.includes(' kd '))!;
    expect(kd.previous!.ci![0]).toBeCloseTo(71 - 4.302653 / Math.sqrt(3), 4);
    expect(compareNights([row('kd', 1, 1)], [row('kd', 1, 90)])[0]!.verdict).toBe('no-interval');
  });
});
