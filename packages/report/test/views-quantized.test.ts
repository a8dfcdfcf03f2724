/**
 * quantizedView (moved here from packages/quantized/src/view.ts): accuracy against bits and model
 * size, over seeds, with full-precision reference points. FABRICATED TEST DATA: the accuracies and
 * sizes below are made up to check the arithmetic, not measured.
 */
import { describe, expect, it } from 'vitest';
import { bitsText, quantizedView, type MethodMeta, type QuantizedViewInput } from '../src/index.js';

const row = (method: string, seed: number, top1: number, extra?: Record<string, number>, teacher = 'resnet20', more: Partial<QuantizedViewInput> = {}): QuantizedViewInput => ({
  method, seed, last_top1: top1, best_top1: top1 + 1, dataset: 'cifar10', protocol: 'quick', student: 'resnet8', teacher,
  family: ['qat', 'quantdistill', 'apprentice', 'qkd'].includes(method) ? 'quantized' : 'response',
  student_params: 1000, details: JSON.stringify({ history: [], extra: extra ?? {} }), ...more,
});
const w4 = { model_bytes: 700, wbits: 4, abits: 4 };
const w2 = { model_bytes: 400, wbits: 2, abits: 8 };

describe('quantizedView (fabricated rows)', () => {
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
    expect(vanilla).toMatchObject({ kd: false, reference: true, wbits: 32, abits: 32, modelBytes: 4000, compression: 1, seeds: [1, 2], top1: [70, 72], n: 2, mean: 71 });
    expect(vanilla!.std).toBeCloseTo(Math.SQRT2, 6);
    expect(kd).toMatchObject({ kd: true, reference: true, teacher: 'resnet20', n: 1, mean: 73, std: null });
    expect(qat).toMatchObject({ kd: false, reference: false, teacher: '', modelBytes: 700, mean: 61 });
    expect(qat!.compression).toBeCloseTo(4000 / 700, 6);
    expect(qd4).toMatchObject({ kd: true, mean: 65, ternary: false });
    expect(qd2).toMatchObject({ kd: true, bits: 'W2A8', ternary: true, modelBytes: 400, compression: 10, mean: 50 });
    expect(bitsText(qd2!)).toBe('W2A8 (ternary weights)');
    expect(bitsText(qd4!)).toBe('W4A4');
  });

  it('reads the best epoch on request, keeps the latest row of a repeated seed, and takes other reference methods', () => {
    const v = quantizedView([...rows, row('qat', 1, 64, w4, '')], { metric: 'best_top1', references: ['vanilla'] });
    expect(v.find((r) => r.method === 'qat')).toMatchObject({ seeds: [1, 2], top1: [65, 63], mean: 64 });
    expect(v.some((r) => r.method === 'kd')).toBe(false);
    // by date: an older night of seed 1 does not replace the newer one
    const dated = quantizedView([row('qat', 1, 60, w4, '', { date: '2026-11-27' }), row('qat', 1, 10, w4, '', { date: '2026-11-20' })]);
    expect(dated[0]!.top1).toEqual([60]);
  });

  it('takes the bits from the hyperparameters when a run did not report them (size unknown)', () => {
    const v = quantizedView([row('qkd', 1, 55, undefined, 'resnet20', { hyperparameters: JSON.stringify({ wbits: 2, abits: 0, edgeBits: 8 }) })]);
    expect(v).toHaveLength(1);
    expect(v[0]).toMatchObject({ bits: 'W2A8', ternary: true, modelBytes: null, compression: null, mean: 55 });
  });

  it('keeps settings other than the bits apart and names them from the method defaults', () => {
    const meta = new Map<string, MethodMeta>([['quantdistill', { id: 'quantdistill', title: 'QD', family: 'quantized', knowledge: 'response', scheme: 'offline', paper: null, defaults: { wbits: 4, abits: 0, T: 4 } } as MethodMeta]]);
    const hp = (T: number) => ({ hyperparameters: JSON.stringify({ wbits: 4, abits: 0, T }) });
    const v = quantizedView([row('quantdistill', 1, 64, w4, 'resnet20', hp(4)), row('quantdistill', 1, 61, w4, 'resnet20', hp(2))], { meta });
    expect(v.map((r) => r.name).sort()).toEqual(['quantdistill', 'quantdistill [T=2]']);
  });

  it('ignores rows whose details are not JSON instead of failing', () => {
    expect(quantizedView([{ ...row('qat', 1, 60, w4, ''), details: 'not json' }])).toEqual([]);
  });
});
