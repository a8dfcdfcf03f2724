import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@kdbench/engine';
import type { Model } from '@kdbench/models';
import { fsp, fspLoss } from '../src/fsp.js';
import { context, expectGradients, expectMetadata, expectNoLeak, forward, io, value, values } from './helpers.js';
import { stagesOf } from '@kdbench/core/testing';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

type Map4 = number[][][][]; // [b][y][x][c]
const toMap = (v: number[], b: number, h: number, c: number): Map4 =>
  Array.from({ length: b }, (_, i) => Array.from({ length: h }, (_, y) => Array.from({ length: h }, (_, x) =>
    Array.from({ length: c }, (_, k) => v[((i * h + y) * h + x) * c + k]!))));
/** 2x2 average pooling by loops. */
const pool = (m: Map4): Map4 => m.map((img) => Array.from({ length: img.length / 2 }, (_, y) =>
  Array.from({ length: img.length / 2 }, (_, x) => img[0]![0]!.map((_, k) =>
    (img[2 * y]![2 * x]![k]! + img[2 * y + 1]![2 * x]![k]! + img[2 * y]![2 * x + 1]![k]! + img[2 * y + 1]![2 * x + 1]![k]!) / 4))));
/** G[b][i][j] = mean over positions of top[..i] * bot[..j]. */
const gram = (bot: Map4, top: Map4) => bot.map((img, b) => top[0]![0]![0]!.map((_, i) => img[0]![0]!.map((_, j) => {
  let s = 0, n = 0;
  img.forEach((row, y) => row.forEach((px, x) => { s += top[b]![y]![x]![i]! * px[j]!; n++; }));
  return s / n;
})));
function fspLoop(s: [Map4, Map4], t: [Map4, Map4]): number {
  const gs = gram(pool(s[0]), s[1]);
  const gt = gram(pool(t[0]), t[1]);
  let sum = 0, n = 0;
  gs.forEach((m, b) => m.forEach((row, i) => row.forEach((x, j) => { sum += (x - gt[b]![i]![j]!) ** 2; n++; })));
  return sum / n;
}

describe('fsp (Yim et al. 2017)', () => {
  const B = 2;
  const a = values(B * 4 * 4 * 2, 20), b = values(B * 2 * 2 * 3, 21), c = values(B * 4 * 4 * 2, 22), d = values(B * 2 * 2 * 3, 23);
  const maps = () => [tf.tensor4d(a, [B, 4, 4, 2]), tf.tensor4d(b, [B, 2, 2, 3])];
  const tmaps = () => [tf.tensor4d(c, [B, 4, 4, 2]), tf.tensor4d(d, [B, 2, 2, 3])];

  it('equals a loop implementation (larger map pooled), and is 0 for identical features', () => {
    const [s0, s1] = maps();
    const [t0, t1] = tmaps();
    const expected = fspLoop([toMap(a, B, 4, 2), toMap(b, B, 2, 3)], [toMap(c, B, 4, 2), toMap(d, B, 2, 3)]);
    expect(value(fspLoss([s0!, s1!], [t0!, t1!]))).toBeCloseTo(expected, 6);
    expect(value(fspLoss([s0!, s1!], [s0!, s1!]))).toBe(0);
    tf.dispose([s0!, s1!, t0!, t1!]);
  });

  it('has an FSP-only initialisation stage of 30/240 of the run, then CE only', () => {
    const sv = maps().map((m) => tf.variable(m));
    const s = forward({ logits: tf.variable(tf.tensor2d(values(B * 3, 1), [B, 3])) as tf.Tensor2D, features: sv as tf.Tensor4D[] });
    const t = forward({ logits: tf.tensor2d(values(B * 3, 2), [B, 3]), features: tmaps() });
    const student = { trainableVariables: () => sv } as unknown as Model;
    const inst = fsp.create(context(fsp, s, t, { student, epochs: 16 }));
    expect(stagesOf(inst)).toHaveLength(1);
    const stage = stagesOf(inst)[0]!;
    expect(stage.epochs).toBe(2);
    expect(stagesOf(fsp.create(context(fsp, s, t, { epochs: 3 })))[0]!.epochs).toBe(1);
    expect(stage.variables()).toEqual(sv);
    expect(Object.keys(stage.losses(io(s, t)))).toEqual(['fsp']);
    expect(Object.keys(inst.losses(io(s, t)))).toEqual(['ce']);
    const withMain = fsp.create(context(fsp, s, t, { hp: { ...fsp.defaults, mainFsp: true } }));
    expect(Object.keys(withMain.losses(io(s, t)))).toEqual(['ce', 'fsp']);
    expectGradients(() => stage.losses(io(s, t)), sv);
    expectNoLeak({ losses: (x) => stage.losses(x) }, () => io(s, t));
  });

  it('rejects student/teacher pairs whose stage widths differ', () => {
    const s = forward({ features: maps() });
    const t = forward({ features: [tf.zeros([B, 4, 4, 2]) as tf.Tensor4D, tf.zeros([B, 2, 2, 5]) as tf.Tensor4D] });
    expect(() => fsp.create(context(fsp, s, t))).toThrow(/widths must match/);
  });

  it('has the CRD defaults and cites its paper', () => {
    expectMetadata(fsp, { gamma: 1, beta: 50, initWeight: 1, initEpochs: 30, mainFsp: false }, 'Yim_A_Gift');
  });
});
