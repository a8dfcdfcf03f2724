import { beforeAll, describe, expect, it } from 'vitest';
import { MeanGraphConv } from '@kdbench/core';
import { afterStepOf, buffersOf, disposeInstance, varsOf } from '@kdbench/core/testing';
import { Rng, tf } from '@kdbench/engine';
import { HolisticMemory, hkd, holisticFeatures, infoNce } from '../src/hkd.js';
import { context, expectGradients, expectMetadata, expectNoLeak, forward, io, value, values } from './helpers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('hkd (Zhou et al. 2021)', () => {
  it('infoNce: one anchor, its positive and two bank negatives, by hand', () => {
    // a = (0.6, 0.8), positive (1, 0), negatives (0, 1) and (-1, 0), T = 0.07:
    // logits (0.6, 0.8, -0.6) / 0.07 = (8.571429, 11.428571, -8.571429); -log softmax[0] = 2.912987
    const bank = tf.variable(tf.tensor2d([[0, 1], [-1, 0]]), false);
    const l = infoNce(tf.tensor2d([[0.6, 0.8]]), tf.tensor2d([[1, 0]]), bank, Int32Array.from([0, 1]), 0.07);
    expect(value(l)).toBeCloseTo(2.912987, 5);
    bank.dispose();
  });

  it('holisticFeatures: the 3-vertex graph of softmax-cosine distances, aggregated and normalised by hand', () => {
    // logits (2,0,0), (1.5,0.2,0), (0,0,2): with k = 2 (self included) the neighbour sets are {0,1}, {1,0}, {2,1};
    // e = (1,0), (0,1), (0.6,0.8) -> means (0.5,0.5), (0.5,0.5), (0.3,0.9); W maps [e ; mean] to (e1, m1 + m2):
    // (1, 1), (0, 1), (0.6, 1.2) -> normalised (0.707107, 0.707107), (0, 1), (0.447214, 0.894427)
    const gnn = new MeanGraphConv(2, 2, 0);
    gnn.linear.weight.assign(tf.tensor2d([[1, 0], [0, 0], [0, 1], [0, 1]]));
    gnn.linear.bias!.assign(tf.zeros([2]));
    const g = holisticFeatures(gnn, tf.tensor2d([[1, 0], [0, 1], [0.6, 0.8]]), tf.tensor2d([[2, 0, 0], [1.5, 0.2, 0], [0, 0, 2]]), 2)
      .arraySync();
    [[0.707107, 0.707107], [0, 1], [0.447214, 0.894427]].forEach((r, i) => r.forEach((v, j) => expect(g[i]![j]).toBeCloseTo(v, 5)));
    gnn.dispose();
  });

  it('memory: negatives from other classes only, K capped at the smallest pool; bank update 0.9 M + 0.1 e, normalised', () => {
    const ids = Int32Array.from([0, 1, 2, 3, 4, 5]);
    const labels = Int32Array.from([0, 0, 1, 1, 2, 2]);
    const mem = new HolisticMemory(ids, labels, 2, 100, new Rng(1), new Rng(2));
    expect(mem.k).toBe(4);
    const neg = mem.draw(Int32Array.from([0, 2]));
    expect([...neg.slice(0, 4)].every((r) => labels[r] !== 0)).toBe(true);
    expect([...neg.slice(4, 8)].every((r) => labels[r] !== 1)).toBe(true);
    mem.memory.student.assign(tf.tensor2d([[1, 0], [1, 0], [1, 0], [1, 0], [1, 0], [1, 0]]));
    mem.memory.teacher.assign(tf.tensor2d([[0.6, 0.8], [0, 1], [0, 1], [0, 1], [0, 1], [0, 1]]));
    mem.defer(Int32Array.from([0]), tf.tensor2d([[0, 1]]), tf.tensor2d([[0, 1]]));
    mem.afterStep();
    // teacher row 0: 0.9 (0.6, 0.8) + 0.1 (0, 1) = (0.54, 0.82) -> (0.549991, 0.835171); student row 0: (0.9, 0.1) -> (0.993884, 0.110432)
    const t0 = mem.memory.teacher.arraySync() as number[][];
    expect(t0[0]![0]).toBeCloseTo(0.549991, 5);
    expect(t0[0]![1]).toBeCloseTo(0.835171, 5);
    expect((mem.memory.student.arraySync() as number[][])[0]![1]).toBeCloseTo(0.110432, 5);
    expect(t0[1]).toEqual([0, 1]);
    mem.dispose();
  });

  const B = 4;
  const build = () => {
    const emb = tf.variable(tf.tensor2d(values(B * 3, 5), [B, 3]));
    const s = forward({ logits: tf.tensor2d(values(B * 3, 1), [B, 3]), embedding: emb as unknown as tf.Tensor2D });
    const t = forward({ logits: tf.tensor2d(values(B * 3, 2), [B, 3]), embedding: tf.tensor2d(values(B * 5, 6), [B, 5]) });
    const hp = { ...hkd.defaults, k: 2, featDim: 4 };
    const inst = hkd.create({ ...context(hkd, s, t), hp });
    return { emb, s, t, inst, hp };
  };

  it('the loss terms compose the pieces: individual and holistic InfoNCE against the banks, weighted by beta', () => {
    const { s, t, inst, hp } = build();
    const terms = inst.losses(io(s, t));
    expect(Object.keys(terms).sort()).toEqual(['ce', 'hkdHolistic', 'hkdIndividual']);
    // recomputed from the parts with the same negatives: the sampler of epoch 0 draws the same rows again
    const mem = inst.parts!.memory as HolisticMemory;
    mem.onEpochStart(0);
    const rows = Int32Array.from([0, 1, 2, 3]);
    const neg = mem.draw(rows);
    const [embedS, embedT] = ['embedS', 'embedT'].map((k) => inst.parts![k] as unknown as { apply(x: tf.Tensor): tf.Tensor2D });
    const es = embedS!.apply(s.embedding);
    const et = embedT!.apply(t.embedding);
    const { student: ms, teacher: mt } = mem.memory;
    const at = (bank: tf.Variable) => tf.gather(bank, rows) as tf.Tensor2D;
    const ind = value(infoNce(es, at(mt), ms, neg, hp.nceT)) + value(infoNce(et, at(ms), mt, neg, hp.nceT));
    expect(value(terms.hkdIndividual!)).toBeCloseTo(3 * ind, 4);
    expect(value(terms.hkdHolistic!)).toBeGreaterThan(0);
    disposeInstance(inst);
  });

  it('a batch smaller than k: no holistic term and the banks stay', () => {
    const { s, t, inst } = build();
    const inst8 = hkd.create({ ...context(hkd, s, t), hp: { ...hkd.defaults, featDim: 4 } }); // k = 8 > B = 4
    const before = buffersOf(inst8).memoryStudent!.dataSync().slice();
    expect(value(inst8.losses(io(s, t)).hkdHolistic!)).toBe(0);
    afterStepOf(inst8);
    expect([...buffersOf(inst8).memoryStudent!.dataSync()]).toEqual([...before]);
    [inst, inst8].forEach((i) => disposeInstance(i));
  });

  it('sends gradients to the student and to all four modules; moves the banks after the step; leaks nothing', () => {
    const { emb, s, t, inst } = build();
    const vars = [emb, ...['embedS', 'embedT', 'gnnS', 'gnnT'].flatMap((p) => varsOf(inst, p))];
    expectGradients(() => inst.losses(io(s, t)), vars);
    const before = buffersOf(inst).memoryTeacher!.dataSync().slice();
    tf.tidy(() => { inst.losses(io(s, t)); });
    afterStepOf(inst);
    expect([...buffersOf(inst).memoryTeacher!.dataSync()]).not.toEqual([...before]);
    expectNoLeak(inst, () => io(s, t));
    disposeInstance(inst);
  });

  it('is deterministic under the run\'s seed', () => {
    const a = build();
    const b = build();
    const va = Object.values(a.inst.losses(io(a.s, a.t))).map(value);
    const vb = Object.values(b.inst.losses(io(b.s, b.t))).map(value);
    expect(vb).toEqual(va);
    [a.inst, b.inst].forEach((i) => disposeInstance(i));
  });

  it('refuses bad hyperparameters with the name and value', () => {
    const { s, t } = build();
    const make = (over: Record<string, number>) => () => hkd.create({ ...context(hkd, s, t), hp: { ...hkd.defaults, ...over } });
    expect(make({ k: 0 })).toThrow(/hkd: k must be a positive integer, got 0/);
    expect(make({ featDim: 1.5 })).toThrow(/featDim must be a positive integer, got 1.5/);
    expect(make({ nceK: 0 })).toThrow(/nceK/);
    expect(make({ nceT: 0 })).toThrow(/nceT must be > 0, got 0/);
  });

  it('has the authors\' defaults and cites its paper', () => {
    expectMetadata(hkd, { gamma: 1, alpha: 0, beta: 3, T: 4, featDim: 128, k: 8, nceK: 16384, nceT: 0.07 }, '2108.05507');
  });
});
