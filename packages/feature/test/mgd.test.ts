import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, tf } from '@kdbench/engine';
import { assignmentCost } from '@kdbench/core';
import { buffersOf, ctxFor, disposeInstance, epochStartOf, afterStepOf, fwd, leakOf, runOnRealModels, stepIO, value, varsOf } from '@kdbench/core/testing';
import { bnMargins, channelCosts, matchChannels, mgd, normalCdf, partialL2, reduceTeacher } from '../src/mgd.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// One image with 2 positions (a 2x1 map). Student channels s0 = (0.5, -1), s1 = (1, 0); teacher channels
// t0 = (1, -2), t1 = (0.5, 0.5), t2 = (-3, 1), t3 = (2, -0.25); values listed per position (NHWC).
const sMap = () => tf.tensor4d([0.5, 1, -1, 0], [1, 2, 1, 2]);
const tMap = () => tf.tensor4d([1, 0.5, -3, 2, -2, 0.5, 1, -0.25], [1, 2, 1, 4]);
// cost 2 - 2 cos(s_j, t_c), e.g. cos(s0, t3) = (0.5*2 + 1*0.25) / (1.118034 * 2.015564) = 0.554700 -> 0.890600
const COST = [[0, 2.632456, 3.414214, 0.890600], [1.105573, 0.585786, 3.897367, 0.015444]];
// teacher BN (gamma, beta) before the ReLU: (1, 0), (2, 1), (1, -1), (0.5, 2)
const GAMMA = [1, 2, 1, 0.5];
const BETA = [0, 1, -1, 2];
// margin = beta - |gamma| phi(beta/|gamma|) / Phi(-beta/|gamma|): (1, 0): 0 - 0.398942 / 0.5 = -0.797885;
// (2, 1): 1 - 2 * 0.352065 / 0.308538 = -1.282156; (1, -1): -1 - 0.241971 / 0.841345 = -1.287600;
// (0.5, 2): Phi(-4) = 3.2e-5 <= 0.001, so -3 * 0.5 = -1.5
const MARGINS = [-0.797885, -1.282156, -1.2876, -1.5];

describe('mgd (Yue et al. 2020): the pieces', () => {
  it('margins from the teacher batch norm, overhaul style', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1)).toBeCloseTo(0.8413447, 6);
    expect(normalCdf(-3)).toBeCloseTo(0.0013499, 6);
    Array.from(bnMargins(GAMMA, BETA)).forEach((m, i) => expect(m).toBeCloseTo(MARGINS[i]!, 5));
    expect(bnMargins([-2], [1])[0]).toBeCloseTo(-1.282156, 5); // |gamma|
  });

  it('channel costs summed over the batch', () => {
    const [s, t] = [sMap(), tMap()];
    const c = channelCosts(s, t).arraySync();
    c.forEach((row, j) => row.forEach((v, k) => expect(v).toBeCloseTo(COST[j]![k]!, 5)));
    // two copies of the image: twice the cost
    const twice = channelCosts(tf.concat([s, s]) as tf.Tensor4D, tf.concat([t, t]) as tf.Tensor4D).arraySync();
    expect(twice[1]![3]).toBeCloseTo(2 * COST[1]![3]!, 5);
    tf.dispose([s, t]);
  });

  it('matching: two teacher channels per student channel, or one (sm)', () => {
    // tiled problem: s0 {0,2} + s1 {1,3} = 0 + 3.414214 + 0.585786 + 0.015444 = 4.015444, the cheapest of the 6 splits
    const flat = COST.flat();
    const guided = matchChannels(flat, 2, 4, 'amp');
    expect(guided).toHaveLength(4);
    expect(new Set([guided[0], guided[2]])).toEqual(new Set([0, 2]));
    expect(new Set([guided[1], guided[3]])).toEqual(new Set([1, 3]));
    expect(assignmentCost([...flat, ...flat], 4, guided)).toBeCloseTo(4.015444, 5);
    // sparse matching: s0 -> t0 (0), s1 -> t3 (0.015444)
    expect(Array.from(matchChannels(flat, 2, 4, 'sm'))).toEqual([0, 3]);
    // 3 teacher channels for 2 student channels: one replica, the third teacher channel dropped
    expect(matchChannels([0, 1, 5, 1, 0, 5], 2, 3, 'amp')).toEqual(Int32Array.from([0, 1]));
  });

  it('reducers: amp keeps the largest magnitude (margins averaged), sp the maximum, sm one channel', () => {
    const t = tMap();
    const margins = Float32Array.from(MARGINS);
    const guided = Int32Array.from([0, 1, 2, 3]); // s0 <- {0, 2}, s1 <- {1, 3}
    const amp = reduceTeacher(t, margins, guided, 2, 'amp');
    // s0: pos0 {1, -3} -> -3, pos1 {-2, 1} -> -2; s1: pos0 {0.5, 2} -> 2, pos1 {0.5, -0.25} -> 0.5
    expect(Array.from(amp.target.dataSync())).toEqual([-3, 2, -2, 0.5]);
    // (-0.797885 - 1.287600) / 2 = -1.042743; (-1.282156 - 1.5) / 2 = -1.391078
    Array.from(amp.margin.dataSync()).forEach((m, i) => expect(m).toBeCloseTo([-1.042743, -1.391078][i]!, 5));
    const sp = reduceTeacher(t, margins, guided, 2, 'sp');
    expect(Array.from(sp.target.dataSync())).toEqual([1, 2, 1, 0.5]);
    Array.from(sp.margin.dataSync()).forEach((m, i) => expect(m).toBeCloseTo([-0.797885, -1.282156][i]!, 5));
    const sm = reduceTeacher(t, margins, Int32Array.from([0, 3]), 2, 'sm');
    expect(Array.from(sm.target.dataSync())).toEqual([1, 2, -2, -0.25]);
    // rd: every element one of its group's values, the same draws under the same seed
    const draw = (seed: number) => reduceTeacher(t, margins, guided, 2, 'rd', new Rng(seed)).target.dataSync();
    const rd = draw(1);
    [[1, -3], [0.5, 2], [-2, 1], [0.5, -0.25]].forEach((options, i) => expect(options).toContain(rd[i]));
    expect(Array.from(draw(1))).toEqual(Array.from(rd));
    tf.dispose([t, amp.target, amp.margin, sp.target, sp.margin, sm.target, sm.margin]);
  });

  it('partial L2 with the student BN taken as identity (the research notes example: 3.631881)', () => {
    // t3 = (2, -0.5) in that example: s1's targets (2, 0.5) (or -0.5 on a tie: same loss)
    const s = sMap();
    const target = tf.tensor4d([-3, 2, -2, 0.5], [1, 2, 1, 2]);
    const margin = tf.tensor1d([-1.042743, -1.391078]);
    // t' = max(t, m) = [(-1.042743, 2), (-1.042743, 0.5)]: (0.5 + 1.042743)^2 + (-1 + 1.042743)^2 + (1 - 2)^2 + (0 - 0.5)^2
    //    = 2.380056 + 0.001827 + 1 + 0.25 = 3.631883
    expect(value(partialL2(s, target, margin))).toBeCloseTo(3.631883, 5);
    // nothing counts where the student is below a non-positive target: s = -5 everywhere, target -1 -> 0
    expect(value(partialL2(tf.fill([1, 2, 1, 2], -5) as tf.Tensor4D, tf.fill([1, 2, 1, 2], -1) as tf.Tensor4D, tf.tensor1d([-2, -2])))).toBe(0);
    tf.dispose([s, target, margin]);
  });
});

/** A fake teacher with the batch norms above before its stage-1 ReLU. */
function teacherWithNorms() {
  const gamma = tf.variable(tf.tensor1d(GAMMA));
  const beta = tf.variable(tf.tensor1d(BETA));
  return { model: { id: 'fake-teacher', preReluNorms: () => [null, { gamma, beta }] }, dispose: () => tf.dispose([gamma, beta]) };
}

function setUp(over: Record<string, number | string> = {}) {
  const stem = () => tf.zeros([1, 2, 1, 1]) as tf.Tensor4D;
  const s = [stem(), sMap()];
  const t = [stem(), tMap()];
  const teacher = teacherWithNorms();
  const inst = mgd.create({ ...ctxFor(mgd, s, t, { lossFactor: 1, ...over }), teacher: teacher.model as never });
  return { inst, s, t, io: (epoch = 0, sf = s) => ({ ...stepIO(fwd(sf), fwd(t)), epoch }), done: () => { disposeInstance(inst); teacher.dispose(); tf.dispose([...s, ...t]); } };
}

describe('mgd: the method', () => {
  it('loss by hand: CE + partial L2 of the student after its own batch norm (training mode) / batch / lossFactor', () => {
    const { inst, io, done } = setUp();
    const terms = inst.losses(io());
    // CE of zero logits over 3 classes = ln 3
    expect(value(terms.ce!)).toBeCloseTo(Math.log(3), 6);
    // student BN over the 2 positions: s0 (0.5, -1) -> (0.999991, -0.999991), s1 (1, 0) -> (0.99998, -0.99998)
    // (x - mean) / sqrt(var + 1e-5); matching s0 <- {0, 2}, s1 <- {1, 3}; amp targets (-3, -2) and (2, 0.5)
    // s0: t' = -1.042743 at both positions: (0.999991 + 1.042743)^2 + (-0.999991 + 1.042743)^2 = 4.172762 + 0.001828
    // s1: t' = (2, 0.5): (0.99998 - 2)^2 + (-0.99998 - 0.5)^2 = 1.00004 + 2.24994; total 7.424567 (one stage: weight 1)
    expect(value(terms.mgd!)).toBeCloseTo(7.424567, 4);
    expect(Object.keys(terms)).toEqual(['ce', 'mgd']);
    done();
  });

  it('adds KD at temperature T when kd > 0', () => {
    const { inst, io, done } = setUp({ kd: 2 });
    // zero logits on both sides: KD = 0, but the term is there
    expect(Object.keys(inst.losses(io()))).toEqual(['ce', 'mgd', 'kd']);
    done();
  });

  it('keeps its matching, tracks costs in the epoch before an update, rematches at the update (updateFreq 2)', () => {
    const { inst, io, done } = setUp();
    const buffers = buffersOf(inst);
    const match = () => Array.from(buffers['mgd/match1']!.dataSync());
    epochStartOf(inst, 0);
    expect(match()).toEqual([-1, -1, -1, -1]);
    tf.tidy(() => { inst.losses(io(0)); });
    afterStepOf(inst);
    const first = match(); // solved from the first batch
    expect(first.every((g) => g >= 0)).toBe(true);
    expect(Array.from(buffers['mgd/images']!.dataSync())).toEqual([0]); // epoch 0 is not tracked
    // epoch 1 ends before the update: its batches are tracked; here the student channels are swapped
    const swapped = tf.tensor4d([1, 0.5, 0, -1], [1, 2, 1, 2]);
    tf.tidy(() => { inst.losses(io(1, [tf.zeros([1, 2, 1, 1]) as tf.Tensor4D, swapped])); });
    afterStepOf(inst);
    expect(Array.from(buffers['mgd/images']!.dataSync())).toEqual([1]);
    expect(match()).toEqual(first);
    epochStartOf(inst, 2);
    // now s0 = (1, 0) pairs with t3 and t1, s1 = (0.5, -1) with t0 and t2
    const second = match();
    expect(new Set([second[0], second[2]])).toEqual(new Set([1, 3]));
    expect(new Set([second[1], second[3]])).toEqual(new Set([0, 2]));
    expect(Array.from(buffers['mgd/images']!.dataSync())).toEqual([0]);
    expect(Array.from(buffers['mgd/cost1']!.dataSync()).every((v) => v === 0)).toBe(true);
    // a resumed run: a fresh instance given these buffers matches the same way
    const resumed = setUp();
    Object.entries(buffersOf(resumed.inst)).forEach(([k, v]) => v.assign(buffers[k]!));
    epochStartOf(resumed.inst, 2);
    expect(value(resumed.inst.losses(resumed.io(2)).mgd!)).toBeCloseTo(value(inst.losses(io(2)).mgd!), 6);
    swapped.dispose();
    resumed.done();
    done();
  });

  it('sends gradients into the student taps and its batch norms; leaves no tensors; repeats under a seed', () => {
    const { inst, s, t, io, done } = setUp();
    const norms = varsOf(inst, 'studentNorms');
    expect(norms).toHaveLength(2); // gamma, beta
    const { grads } = tf.variableGrads(() => inst.losses(io()).mgd!, norms);
    expect(Object.values(grads).every((g) => g.dataSync().some((v) => v !== 0))).toBe(true);
    tf.dispose(Object.values(grads));
    const g = tf.grad((x: tf.Tensor) => inst.losses(stepIO(fwd([s[0]!, x as tf.Tensor4D]), fwd(t))).mgd!)(s[1]!);
    expect(Array.from(g.dataSync()).some((v) => v !== 0)).toBe(true);
    g.dispose();
    expect(leakOf(() => inst.losses(io(0)))).toBe(0);
    expect(leakOf(() => { inst.losses(io(1)); afterStepOf(inst); })).toBe(0); // tracked epoch
    const again = setUp();
    expect(value(again.inst.losses(again.io()).mgd!)).toBe(value(inst.losses(io()).mgd!));
    again.done();
    done();
  });

  it('refuses bad hyperparameters, a teacher without pre-ReLU norms and unmatched stages, in one clear line', () => {
    expect(() => setUp({ reducer: 'max' })).toThrow(/mgd: reducer must be one of amp, sp, rd, sm, got 'max'/);
    expect(() => setUp({ updateFreq: 0 })).toThrow(/mgd: updateFreq must be a positive integer/);
    expect(() => setUp({ lossFactor: -1 })).toThrow(/mgd: lossFactor must be a positive number/);
    const f = [tf.zeros([1, 2, 1, 1]), tMap()] as tf.Tensor4D[];
    const wide = [tf.zeros([1, 2, 1, 1]), tf.zeros([1, 2, 1, 8])] as tf.Tensor4D[];
    expect(() => mgd.create({ ...ctxFor(mgd, f, f), teacher: { id: 'vgg8' } as never })).toThrow(/mgd: the teacher 'vgg8' does not name the batch norms before its stage ReLUs/);
    expect(() => mgd.create(ctxFor(mgd, wide, f))).toThrow(/stage 1 has more student channels \(8\) than teacher channels \(4\)/);
    expect(() => mgd.create(ctxFor(mgd, f, [f[0]!, tf.zeros([1, 1, 1, 4]) as tf.Tensor4D]))).toThrow(/stage 1 is 2x1 in the student and 1x1 in the teacher/);
  });

  it('has its defaults, choices and paper', () => {
    expect(mgd.defaults).toEqual({ reducer: 'amp', updateFreq: 2, lossFactor: 1000, kd: 0, T: 1.5 });
    expect(mgd.hyperChoices?.reducer).toEqual(['amp', 'sp', 'rd', 'sm']);
    expect(mgd.paper?.url).toContain('2008.09958');
    expect([mgd.family, mgd.knowledge, mgd.scheme, mgd.teacher]).toEqual(['feature', 'feature', 'offline', 'required']);
  });

  it('runs on real resnet8 / resnet8x4 features (4 teacher channels per student channel)', () => {
    for (const reducer of ['amp', 'sp', 'rd', 'sm']) {
      const out = runOnRealModels(mgd, { reducer });
      expect(Object.keys(out)).toEqual(['ce', 'mgd']);
      expect(out.mgd).toBeGreaterThan(0);
      for (const v of Object.values(out)) expect(Number.isFinite(v)).toBe(true);
    }
  });
});
