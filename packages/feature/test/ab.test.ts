import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@kdbench/engine';
import { ab } from '../src/ab.js';
import { ctxFor, fwd, leakOf, rand, runOnRealModels, stepIO, value, varsOf, stagesOf, disposeInstance } from '@kdbench/core/testing';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** The alternative AB loss of one layer by a loop over elements. */
function abByLoop(s: number[], t: number[], m: number): number {
  let sum = 0;
  s.forEach((x, i) => {
    if (x > -m && t[i]! <= 0) sum += (x + m) ** 2;
    if (x <= m && t[i]! > 0) sum += (x - m) ** 2;
  });
  return sum;
}

// equal shapes: identity connectors (stage1, stage2); stage3 differs in channels: conv connector
const same = () => ({
  s: [rand([2, 2, 2, 1], 1), rand([2, 2, 2, 2], 2), rand([2, 2, 2, 3], 3)].map((x) => tf.mul(x, 2)) as tf.Tensor4D[],
  t: [rand([2, 2, 2, 1], 4), rand([2, 2, 2, 2], 5), rand([2, 2, 2, 3], 6)].map((x) => tf.mul(x, 2)) as tf.Tensor4D[],
});

describe('ab (Heo 2019)', () => {
  it('init-stage loss equals the per-layer loop, weighted 2^(i-n+1) * 3 / (1000 B), on pre-activations', () => {
    const { s, t } = same();
    const inst = ab.create(ctxFor(ab, s, t));
    expect(varsOf(inst, 'connectors')).toHaveLength(0); // identities
    const post = s.map((f) => tf.relu(f) as tf.Tensor4D);
    const terms = stagesOf(inst)[0]!.losses(stepIO(fwd(post, undefined, s), fwd(t.map((f) => tf.relu(f) as tf.Tensor4D), undefined, t)));
    const expected =
      (0.5 * abByLoop(Array.from(s[1]!.dataSync()), Array.from(t[1]!.dataSync()), 1) +
        1 * abByLoop(Array.from(s[2]!.dataSync()), Array.from(t[2]!.dataSync()), 1)) * (3 / 2000);
    expect(value(terms.ab!)).toBeCloseTo(expected, 6);
  });

  it('is zero when the student is beyond the margin on the teacher\'s side of every boundary', () => {
    const { t } = same();
    const inst = ab.create(ctxFor(ab, t, t));
    const s = t.map((f) => tf.where(tf.greater(f, 0), tf.add(tf.abs(f), 1), tf.sub(-1, tf.abs(f))) as tf.Tensor4D);
    expect(value(stagesOf(inst)[0]!.losses(stepIO(fwd(s), fwd(t))).ab!)).toBe(0);
  });

  it('has an init stage of 30/240 of the run over student + connectors; main stage is CE only; gradients flow; no leaks', () => {
    const s = [rand([2, 4, 4, 1], 1), rand([2, 4, 4, 2], 2), rand([2, 2, 2, 3], 3)] as tf.Tensor4D[];
    const t = [rand([2, 4, 4, 1], 4), rand([2, 2, 2, 3], 5), rand([2, 2, 2, 4], 6)] as tf.Tensor4D[];
    const studentVar = tf.variable(tf.zeros([1]));
    const ctx = { ...ctxFor(ab, s, t, {}, 24), student: { trainableVariables: () => [studentVar] } as never };
    const inst = ab.create(ctx);
    const stage = stagesOf(inst)[0]!;
    expect(stage.name).toBe('ab-init');
    expect(stage.epochs).toBe(3);
    const conn = varsOf(inst, 'connectors');
    expect(conn.length).toBe(8); // two conv+BN connectors (weight, bias, gamma, beta)
    expect(stage.variables()).toEqual([studentVar, ...conn]);
    const { grads } = tf.variableGrads(() => stage.losses(stepIO(fwd(s), fwd(t))).ab!, conn);
    expect(Object.keys(grads)).toHaveLength(8);
    tf.dispose(Object.values(grads));
    const g = tf.grad((f: tf.Tensor) => stage.losses(stepIO(fwd([s[0]!, s[1]!, f as tf.Tensor4D]), fwd(t))).ab!)(s[2]!);
    expect(Array.from(g.dataSync()).some((v) => v !== 0)).toBe(true);
    g.dispose();
    expect(Object.keys(inst.losses(stepIO(fwd(s), fwd(t))))).toEqual(['ce']);
    expect(leakOf(() => stage.losses(stepIO(fwd(s), fwd(t))))).toBe(0);
    expect(() => ab.create(ctxFor(ab, s, [...t, t[2]!]))).toThrow(/numbers of stages/);
    disposeInstance(inst);
    studentVar.dispose();
  });

  it('has the CRD defaults and complete metadata', () => {
    expect(ab.defaults).toEqual({ gamma: 1, margin: 1, initEpochs: 30 });
    expect(ab.paper?.url).toContain('1811.03233');
    expect([ab.family, ab.knowledge, ab.scheme, ab.teacher]).toEqual(['feature', 'feature', 'offline', 'required']);
    expect(Object.keys(ab.hyperDocs).sort()).toEqual(Object.keys(ab.defaults).sort());
  });

  it('runs on real resnet8 / resnet8x4 features', () => {
    const out = runOnRealModels(ab);
    expect(Object.keys(out).sort()).toEqual(['ab-init/ab', 'ce']);
    for (const v of Object.values(out)) expect(Number.isFinite(v)).toBe(true);
  });
});
