/** quantizedView: accuracy against bits and model size, over seeds, with full-precision reference points. */
import { describe, expect, it } from 'vitest';
import { quantizedView, type QuantizedViewInput } from '../src/view.js';

const row = (method: string, seed: number, top1: number, extra?: Record<string, number>, teacher = 'resnet20'): QuantizedViewInput => ({
  method, seed, last_top1: top1, best_top1: top1 + 1, dataset: 'cifar10', protocol: 'quick', student: 'resnet8', teacher,
  student_params: 1000, details: JSON.stringify({ history: [], extra: extra ?? {} }),
});
const w4 = { model_bytes: 700, wbits: 4, abits: 4 };
const w2 = { model_bytes: 400, wbits: 2, abits: 8 };

describe('quantizedView', () => {
  const rows = [
    row('qat', 1, 60, w4, ''), row('qat', 2, 62, w4, ''),
    row('quantdistill', 1, 64, w4), row('quantdistill', 2, 66, w4),
    row('quantdistill', 1, 50, w2),
    row('vanilla', 1, 70, undefined, ''), row('vanilla', 2, 72, undefined, ''),
    row('kd', 1, 73),
    row('fitnet', 1, 71), // neither quantized nor a reference: left out
  ];

  it('groups by method and bits over seeds, with means, sample std, sizes and compression', () => {
    const v = quantizedView(rows);
    expect(v.map((r) => `${r.method} ${r.bits}`)).toEqual([
      'vanilla FP32', 'kd FP32', 'qat W4A4', 'quantdistill W4A4', 'quantdistill W2A8',
    ]);
    const [vanilla, kd, qat, qd4, qd2] = v;
    // vanilla: 4 bytes x 1000 parameters; mean (70 + 72) / 2 = 71, std sqrt(((-1)^2 + 1^2) / 1) = 1.414214
    expect(vanilla).toMatchObject({ kd: false, wbits: 32, abits: 32, modelBytes: 4000, compression: 1, seeds: [1, 2], top1: [70, 72], n: 2, mean: 71 });
    expect(vanilla!.std).toBeCloseTo(Math.SQRT2, 6);
    expect(kd).toMatchObject({ kd: true, teacher: 'resnet20', n: 1, mean: 73, std: null });
    expect(qat).toMatchObject({ kd: false, teacher: '', modelBytes: 700, mean: 61 });
    expect(qat!.compression).toBeCloseTo(4000 / 700, 6);
    expect(qd4).toMatchObject({ kd: true, mean: 65, ternary: false });
    expect(qd2).toMatchObject({ kd: true, bits: 'W2A8', ternary: true, modelBytes: 400, compression: 10, mean: 50 });
  });

  it('reads the best epoch on request, keeps the latest row of a repeated seed, and takes other reference methods', () => {
    const v = quantizedView([...rows, row('qat', 1, 64, w4, '')], { metric: 'best_top1', references: ['vanilla'] });
    expect(v.find((r) => r.method === 'qat')).toMatchObject({ seeds: [1, 2], top1: [65, 63], mean: 64 });
    expect(v.some((r) => r.method === 'kd')).toBe(false);
  });

  it('ignores rows whose details are not JSON instead of failing', () => {
    expect(quantizedView([{ ...row('qat', 1, 60, w4, ''), details: 'not json' }])).toEqual([]);
  });
});
