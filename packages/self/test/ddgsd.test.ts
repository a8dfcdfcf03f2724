import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@kdbench/engine';
import { ConfigError, type MethodInstance } from '@kdbench/core';
import { ddgsd, linearMMD, mutualViewKL } from '../src/ddgsd.js';
import { batch, expectGradients, leakOf, realContext, ref, stepIO, termValues, value } from './helpers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('ddgsd (Xu & Liu 2019)', () => {
  it('linear MMD and the two-way KL equal hand-computed values; each KL direction holds its target fixed', () => {
    // row means [2, 1] and [1, 0]: squared distance 1 + 1 = 2
    const ha = tf.tensor2d([[1, 0], [3, 2]]);
    const hb = tf.tensor2d([[0, 0], [2, 0]]);
    expect(value(linearMMD(ha, hb))).toBeCloseTo(2, 6);
    // p_a = softmax([ln 3, 0]) = [0.75, 0.25], p_b = [0.5, 0.5]:
    // KL(p_b || p_a) = 0.5 ln(2/3) + 0.5 ln 2 = 0.143841, KL(p_a || p_b) = 0.75 ln 1.5 + 0.25 ln 0.5 = 0.130812
    const za = tf.variable(tf.tensor2d([[Math.log(3), 0]]));
    const zb = tf.variable(tf.tensor2d([[0, 0]]));
    expect(value(mutualViewKL(za, zb, 1))).toBeCloseTo(0.274653, 5);
    // d/dz_a of KL(sg p_b || p_a) is p_a - p_b = [0.25, -0.25]; KL(sg p_a || p_b) adds nothing to it
    const { grads } = tf.variableGrads(() => mutualViewKL(za, zb, 1), [za, zb]);
    expect(Array.from(grads[za.name]!.dataSync()).map((g) => Number(g.toFixed(6)))).toEqual([0.25, -0.25]);
    expect(Array.from(grads[zb.name]!.dataSync()).map((g) => Number(g.toFixed(6)))).toEqual([-0.25, 0.25]);
    tf.dispose([ha, hb, za, zb, ...Object.values(grads)]);
  });

  it('runs both views through the network as one batch and computes CE, KL and MMD as a loop does', () => {
    const { ctx, student } = realContext(ddgsd);
    const inst = ddgsd.create(ctx);
    const b = batch();
    const other = { x: tf.randomNormal([4, 32, 32, 3], 0, 1, 'float32', 9) as tf.Tensor4D, labels: b.labels, ids: Int32Array.from([0, 1, 2, 3]) };
    const io = () => stepIO(student, b, { companion: other, companions: [other] });
    const t = termValues(() => inst.losses(io()));
    expect(Object.keys(t).sort()).toEqual(['ce', 'kl', 'mmd']);
    // reference: one training-mode pass over the 8 rows (batch norm over both views), split in halves
    const [z, h] = tf.tidy(() => {
      const out = student.forward(tf.concat([b.x, other.x]), { training: true });
      return [out.logits, out.embedding];
    }).map(ref.rows);
    const [za, zb, ha, hb] = [z!.slice(0, 4), z!.slice(4), h!.slice(0, 4), h!.slice(4)];
    const y = [1, 4, 1, 7];
    expect(t.ce).toBeCloseTo(ref.mean(y.map((c, i) => ref.ce(za[i]!, c))) + ref.mean(y.map((c, i) => ref.ce(zb[i]!, c))), 4);
    const kl = ref.mean(y.map((_, i) => ref.kl(ref.softmax(zb[i]!), ref.softmax(za[i]!)) + ref.kl(ref.softmax(za[i]!), ref.softmax(zb[i]!))));
    expect(t.kl).toBeCloseTo(kl, 4);
    const colMean = (rows: number[][], d: number) => ref.mean(rows.map((r) => r[d]!));
    const mmd = ha[0]!.reduce((acc, _, d) => acc + (colMean(ha, d) - colMean(hb, d)) ** 2, 0);
    expect(t.mmd).toBeCloseTo(5e-4 * mmd, 7);
    expectGradients(() => inst.losses(io()), student.trainableVariables(), 'ddgsd');
    expect(leakOf(inst, () => inst.losses(io()))).toBe(0);
    expect(() => inst.losses(stepIO(student, b))).toThrow(/ddgsd: the batch has no second view/);
    tf.dispose([b.x, b.labels, other.x]);
    student.dispose();
  });

  it('asks the trainer for one more view of the batch\'s own records, is reproducible under a seed, and refuses bad settings', () => {
    const run = () => {
      const { ctx, student } = realContext(ddgsd, {}, { seed: 5 });
      const inst: MethodInstance = ddgsd.create(ctx);
      const sets = inst.procedure!.companions!(Int32Array.from([4, 9]), Int32Array.from([4, 9]), 3) as Int32Array[];
      expect(sets.map((s) => Array.from(s))).toEqual([[4, 9]]);
      const b = batch(2);
      const other = { x: tf.randomNormal([4, 32, 32, 3], 0, 1, 'float32', 11) as tf.Tensor4D, labels: b.labels, ids: Int32Array.from([0, 1, 2, 3]) };
      const t = termValues(() => inst.losses(stepIO(student, b, { companion: other, companions: [other] })));
      tf.dispose([b.x, b.labels, other.x]);
      student.dispose();
      return t;
    };
    expect(run()).toEqual(run());
    const bad = (over: Record<string, unknown>, message: RegExp) => {
      const { ctx, student } = realContext(ddgsd, over as never);
      expect(() => ddgsd.create(ctx)).toThrow(message);
      expect(() => ddgsd.create(ctx)).toThrow(ConfigError); // a usage error (exit 2), not an internal one
      student.dispose();
    };
    bad({ lambda: -1 }, /ddgsd: lambda must be >= 0, got -1/);
    bad({ mu: -0.1 }, /ddgsd: mu must be >= 0, got -0.1/);
    bad({ T: 0 }, /ddgsd: T must be > 0, got 0/);
  });
});
