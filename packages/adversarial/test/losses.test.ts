/**
 * The adversarial methods' loss terms on hand-made inputs. With every discriminator weight set to 0
 * the discriminators score 0, so each BCE term is ln 2 and each least-squares term (0 - 1)^2 = 1 or
 * 0; the CE and KD terms are checked against a plain loop (numbers in the comments).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { fwd, leakOf, rand, disposeInstance } from '@kdbench/core/testing';
import { tf } from '@kdbench/engine';
import { advfeat, cganlogits, meal } from '../src/index.js';
import { handContext, handIO, values, zeroPlayers } from './helpers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const LN2 = Math.log(2);
// loop values for s = [[1, 2, 0], [0, 0, 3]], t = [[0, 2, 1], [1, 1, 1]], labels [1, 2]:
const CE = 0.2512645; // mean(logsumexp(s_i) - s_i[y_i])
const KD_T4 = 0.6765409; // 16 * mean_i KL(softmax(t_i/4) || softmax(s_i/4))
const KL_T1 = 0.5755043; // mean_i KL(softmax(t_i) || softmax(s_i))

function pair(studentEmbedding = 2, teacherEmbedding = 2) {
  const feats = (seed: number) => [tf.fill([2, 4, 4, 2], 0.1 * seed) as tf.Tensor4D, tf.fill([2, 2, 2, 3], 0.2 * seed) as tf.Tensor4D];
  const logitsS = tf.variable(tf.tensor2d([[1, 2, 0], [0, 0, 3]]));
  const s = { ...fwd(feats(1), logitsS as unknown as tf.Tensor2D), embedding: tf.fill([2, studentEmbedding], 0.3) as tf.Tensor2D };
  const t = { ...fwd(feats(2), tf.tensor2d([[0, 2, 1], [1, 1, 1]])), embedding: tf.fill([2, teacherEmbedding], 0.7) as tf.Tensor2D };
  return { s, t, logitsS };
}

function gradientOf(f: () => Record<string, tf.Scalar>, v: tf.Variable): number {
  return tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => tf.addN(Object.values(f())) as tf.Scalar, [v]);
    value.dispose();
    return tf.max(tf.abs(grads[v.name]!)).dataSync()[0]!;
  });
}

describe('cganlogits (Xu et al. 2018)', () => {
  it('CE + KD + label-conditioned adversarial term; discriminator real/fake terms', () => {
    const { s, t, logitsS } = pair();
    const inst = cganlogits.create(handContext(cganlogits, s, t));
    zeroPlayers(inst);
    const io = handIO(s, t, [1, 2]);
    const l = values(inst.losses(io));
    expect(l.ce).toBeCloseTo(0.1 * CE, 5);
    expect(l.kd).toBeCloseTo(0.9 * KD_T4, 5);
    expect(l.adversarial).toBeCloseTo(LN2, 5);
    expect(values(inst.procedure!.players![0]!.losses(io))).toEqual({ real: expect.closeTo(LN2, 5), fake: expect.closeTo(LN2, 5) });
    // with a non-zero discriminator the adversarial term reaches the student's logits
    inst.procedure!.players![0]!.variables().forEach((v, i) => v.assign(tf.mul(rand(v.shape, i), 0.5)));
    expect(gradientOf(() => ({ a: inst.losses(io).adversarial! }), logitsS)).toBeGreaterThan(0);
    expect(leakOf(() => inst.losses(io))).toBe(0);
    expect(leakOf(() => inst.procedure!.players![0]!.losses(io))).toBe(0);
    disposeInstance(inst);
  });
});

describe('advfeat (Wang et al. 2018)', () => {
  it('CE + KD + adversarial term on the embeddings; a connector when the sizes differ', () => {
    const { s, t } = pair();
    const inst = advfeat.create(handContext(advfeat, s, t));
    expect(Object.keys(inst.parts!)).toEqual(['discriminator']); // no connector at equal widths
    zeroPlayers(inst);
    const io = handIO(s, t, [1, 2]);
    expect(values(inst.losses(io))).toEqual({ ce: expect.closeTo(0.1 * CE, 5), kd: expect.closeTo(0.9 * KD_T4, 5), adversarial: expect.closeTo(LN2, 5) });
    expect(values(inst.procedure!.players![0]!.losses(io))).toEqual({ real: expect.closeTo(LN2, 5), fake: expect.closeTo(LN2, 5) });
    disposeInstance(inst);

    const wide = pair(2, 5);
    const inst2 = advfeat.create(handContext(advfeat, wide.s, wide.t));
    expect(Object.keys(inst2.parts!)).toEqual(['connector', 'discriminator']);
    const io2 = handIO(wide.s, wide.t, [1, 2]);
    expect(Number.isFinite(values(inst2.procedure!.players![0]!.losses(io2)).fake!)).toBe(true);
    expect(leakOf(() => inst2.losses(io2))).toBe(0);
    disposeInstance(inst2);
  });
});

describe('meal (Shen et al. 2019)', () => {
  it('similarity KL + one adversarial term per block (stage ends and logits), no labels by default', () => {
    const { s, t, logitsS } = pair();
    const inst = meal.create(handContext(meal, s, t));
    zeroPlayers(inst);
    const io = handIO(s, t, [1, 2]);
    // blocks: stage 1 (pooled) and the logits -> 2 discriminators
    expect(values(inst.losses(io))).toEqual({ similarity: expect.closeTo(KL_T1, 5), adversarial: expect.closeTo(2 * LN2, 5) });
    expect(Object.keys(inst.procedure!.players![0]!.losses(io)).sort()).toEqual(['fake0', 'fake1', 'real0', 'real1']);
    expect(Object.keys(values(meal.create(handContext(meal, s, t, { gamma: 1 })).losses(io)))).toContain('ce');
    expect(gradientOf(() => inst.losses(io), logitsS)).toBeGreaterThan(0);
    expect(leakOf(() => inst.losses(io))).toBe(0);
    disposeInstance(inst);
  });

  it('names each departure from the authors\' code in its deviations', () => {
    for (const part of ['fd4a23a', 'one teacher', '--grl', 'LeakyReLU(0.2)', 'two output scores', 'logits only']) {
      expect(meal.deviations).toContain(part);
    }
  });
});
