import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@kdbench/engine';
import type { TrainableModule } from '@kdbench/core';
import { cc, consecutiveRowCorrelationLoss, correlationCongruenceLoss } from '../src/cc.js';
import { context, expectGradients, expectMetadata, expectNoLeak, forward, io, value, values } from './helpers.js';
import { disposeInstance } from '@kdbench/core/testing';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Loop version: Taylor-expanded RBF of normalised rows, then mean squared difference. */
function ccLoop(s: number[][], t: number[][], gamma: number, order: number): number {
  const corr = (q: number[][]) => {
    const n = q.map((a) => {
      const norm = Math.sqrt(a.reduce((acc, x) => acc + x * x, 0));
      return a.map((x) => x / norm);
    });
    return n.map((a) =>
      n.map((b) => {
        const sim = a.reduce((acc, x, k) => acc + x * b[k]!, 0);
        let k = 0, fact = 1;
        for (let p = 0; p <= order; p++) {
          if (p > 0) fact *= p;
          k += (Math.exp(-2 * gamma) * (2 * gamma) ** p * sim ** p) / fact;
        }
        return k;
      }),
    );
  };
  const cs = corr(s), ct = corr(t);
  let sum = 0;
  cs.forEach((row, i) => row.forEach((x, j) => (sum += (x - ct[i]![j]!) ** 2)));
  return sum / (s.length * s.length);
}

describe('cc (Peng et al. 2019)', () => {
  const B = 4, D = 5;
  const sv = values(B * D, 10);
  const tv = values(B * D, 11);
  const rows = (v: number[]) => Array.from({ length: B }, (_, b) => v.slice(b * D, (b + 1) * D));

  it('equals a loop implementation of the Taylor-expanded RBF congruence, and is 0 for equal embeddings', () => {
    const s = tf.tensor2d(sv, [B, D]);
    const t = tf.tensor2d(tv, [B, D]);
    expect(value(correlationCongruenceLoss(s, t, 0.4, 2))).toBeCloseTo(ccLoop(rows(sv), rows(tv), 0.4, 2), 6);
    expect(value(correlationCongruenceLoss(t, t, 0.4, 2))).toBeCloseTo(0, 8);
    tf.dispose([s, t]);
  });

  it('repdistiller form (default): mean over consecutive rows of sum_k |d_i|_k |d_{i+1}|_k, by hand', () => {
    // d = |s - t| = [[1, 2], [3, 0], [1, 1]]: rows 0-1: 1*3 + 2*0 = 3; rows 1-2: 3*1 + 0*1 = 3 -> mean 3
    const s = tf.tensor2d([[1, 2], [0, 0], [2, -1]]);
    const t = tf.tensor2d([[0, 0], [3, 0], [1, 0]]);
    expect(value(consecutiveRowCorrelationLoss(s, t))).toBeCloseTo(3, 6);
    expect(value(consecutiveRowCorrelationLoss(t, t))).toBe(0);
    // one row: no consecutive pair, loss 0 (not NaN)
    expect(value(consecutiveRowCorrelationLoss(tf.tensor2d([[1, 2]]), tf.tensor2d([[0, 0]])))).toBe(0);
    tf.dispose([s, t]);
  });

  it('uses the repdistiller form by default and the paper form with form=paper; refuses other forms', () => {
    const s = forward({ logits: tf.tensor2d(values(B * 3, 1), [B, 3]), embedding: tf.tensor2d(sv, [B, D]) });
    const t = forward({ logits: tf.tensor2d(values(B * 3, 2), [B, 3]), embedding: tf.tensor2d(tv, [B, D]) });
    const byForm = (form?: string) => {
      const inst = cc.create(context(cc, s, t, { hp: { ...cc.defaults, beta: 1, ...(form ? { form } : {}) } }));
      const mods = Object.values(inst.parts!) as { apply(x: tf.Tensor): tf.Tensor2D }[];
      const [es, et] = [mods[0]!.apply(s.embedding), mods[1]!.apply(t.embedding)];
      const got = value(inst.losses(io(s, t)).cc!);
      const repdistiller = value(consecutiveRowCorrelationLoss(es, et));
      const paper = value(correlationCongruenceLoss(es, et, 0.4, 2));
      disposeInstance(inst);
      return { got, repdistiller, paper };
    };
    const d = byForm();
    expect(d.got).toBeCloseTo(d.repdistiller, 5);
    const p = byForm('paper');
    expect(p.got).toBeCloseTo(p.paper, 6);
    expect(Math.abs(p.got - d.got)).toBeGreaterThan(1e-3);
    expect(() => cc.create(context(cc, s, t, { hp: { ...cc.defaults, form: 'taylor' } }))).toThrow(/cc: form must be one of repdistiller, paper/);
  });

  it('trains both linear embeddings and the student embedding, and leaks nothing', () => {
    const emb = tf.variable(tf.tensor2d(sv, [B, D]));
    const s = forward({ logits: tf.tensor2d(values(B * 3, 1), [B, 3]), embedding: emb as tf.Tensor2D });
    const t = forward({ logits: tf.tensor2d(values(B * 3, 2), [B, 3]), embedding: tf.tensor2d(values(B * 7, 3), [B, 7]) });
    const inst = cc.create(context(cc, s, t));
    const mods = Object.values(inst.parts!) as TrainableModule[];
    expect(mods).toHaveLength(2);
    const modVars = mods.flatMap((m) => m.trainableVariables());
    expect(modVars.map((v) => v.shape)).toEqual([[5, 128], [128], [7, 128], [128]]);
    expectGradients(() => inst.losses(io(s, t)), [emb, ...modVars]);
    expectNoLeak(inst, () => io(s, t));
    disposeInstance(inst);
  });

  it('has the CRD defaults and cites its paper', () => {
    expectMetadata(cc, { gamma: 1, beta: 0.02, rbfGamma: 0.4, order: 2, featDim: 128, form: 'repdistiller' }, '1904.01802');
    expect(cc.deviations).toContain('RepDistiller');
  });
});
