import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@kdbench/engine';
import type { TrainableModule } from '@kdbench/core';
import { cc, correlationCongruenceLoss } from '../src/cc.js';
import { context, expectGradients, expectMetadata, expectNoLeak, forward, io, value, values } from './helpers.js';

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

  it('trains both linear embeddings and the student embedding, and leaks nothing', () => {
    const emb = tf.variable(tf.tensor2d(sv, [B, D]));
    const s = forward({ logits: tf.tensor2d(values(B * 3, 1), [B, 3]), embedding: emb as tf.Tensor2D });
    const t = forward({ logits: tf.tensor2d(values(B * 3, 2), [B, 3]), embedding: tf.tensor2d(values(B * 7, 3), [B, 7]) });
    const inst = cc.create(context(cc, s, t));
    const mods = Object.values(inst.modules!) as TrainableModule[];
    expect(mods).toHaveLength(2);
    const modVars = mods.flatMap((m) => m.trainableVariables());
    expect(modVars.map((v) => v.shape)).toEqual([[5, 128], [128], [7, 128], [128]]);
    expectGradients(() => inst.losses(io(s, t)), [emb, ...modVars]);
    expectNoLeak(inst, () => io(s, t));
    inst.dispose?.();
  });

  it('has the CRD defaults and cites its paper', () => {
    expectMetadata(cc, { gamma: 1, beta: 0.02, rbfGamma: 0.4, order: 2, featDim: 128 }, '1904.01802');
    expect(cc.deviations).toContain('RepDistiller');
  });
});
