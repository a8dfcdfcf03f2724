import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '@kdbench/core';
import { Rng, tf } from '@kdbench/engine';
import { ktg } from '../src/ktg.js';
import { sampleGraphs, successiveHalving } from '../src/shared/graph-search.js';
import { correctRows, gated, graphLosses, parseGates, parseNodes, storedTeachers } from '../src/shared/transfer-graph.js';
import { value } from './helpers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('ktg gates, one by one (per-sample losses l = (1, 2, 3, 4))', () => {
  const l = () => tf.tensor1d([1, 2, 3, 4]);
  it('through: the batch mean, 2.5', () => {
    expect(value(gated('through', l(), null, 0.25)!)).toBeCloseTo(2.5, 6);
  });
  it('cutoff: no term at all, so no gradient reaches the target', () => {
    expect(gated('cutoff', l(), null, 0.25)).toBeNull();
    const z = tf.variable(tf.tensor2d([[1, 0], [0, 1]]));
    const terms = graphLosses([['cutoff', 'through'], ['cutoff', 'through']], [z as unknown as tf.Tensor2D, tf.tensor2d([[0, 1], [1, 0]])], tf.tensor1d([0, 0], 'int32'), 1, 1);
    expect(Object.keys(terms)).toEqual(['kl1', 'node1/ce']); // node 0's cross-entropy edge is cut: no 'ce' term
  });
  it('linear: the mean times the fraction of training done, 0.625 at 0.25', () => {
    expect(value(gated('linear', l(), null, 0.25)!)).toBeCloseTo(0.625, 6);
  });
  it('correct: only the rows the source classifies correctly, averaged over the whole batch: (1 + 2) / 4 = 0.75', () => {
    expect(value(gated('correct', l(), tf.tensor1d([1, 1, 0, 0]), 0.25)!)).toBeCloseTo(0.75, 6);
    // the source's correctness: argmax (1, 0, 1, 0) against labels (1, 0, 0, 1)
    expect([...correctRows(tf.tensor2d([[0, 1], [1, 0], [0, 2], [3, 0]]), tf.tensor1d([1, 0, 0, 1], 'int32')).dataSync()]).toEqual([1, 1, 0, 0]);
  });

  it('a KL edge at T = 1: KL(softmax(0,1) || softmax(1,0)) = 0.731059 - 0.268941 = 0.462117, no gradient into the source', () => {
    const src = tf.variable(tf.tensor2d([[0, 1]]));
    const dst = tf.variable(tf.tensor2d([[1, 0]]));
    const f = () => graphLosses([['cutoff', 'cutoff'], ['through', 'cutoff']], [src as unknown as tf.Tensor2D, dst as unknown as tf.Tensor2D], tf.tensor1d([0], 'int32'), 1, 1);
    expect(Object.keys(f())).toEqual(['node1/kl0']);
    expect(value(f()['node1/kl0']!)).toBeCloseTo(0.462117, 5);
    const { grads } = tf.variableGrads(() => f()['node1/kl0']!, [src, dst]);
    expect(tf.max(tf.abs(grads[src.name] ?? tf.zeros([1]))).dataSync()[0]).toBe(0);
    expect(tf.max(tf.abs(grads[dst.name]!)).dataSync()[0]).toBeGreaterThan(0);
  });

  it('a 3-node graph with every gate, computed by hand', () => {
    // labels (0, 1); node logits z0 = [[0,0],[0,0]], z1 = [[1,0],[0,1]] (both rows correct), z2 = [[0,1],[0,1]] (row 2 correct)
    // node 0: through CE = ln 2 = 0.693147; linear KL from 1 at 0.5: KL((0.731059, 0.268941) || (0.5, 0.5))
    //         = 0.731059 ln 1.462117 + 0.268941 ln 0.537883 = 0.110944 per row -> 0.5 * 0.110944 = 0.055472;
    //         correct KL from 2: 0.110944 per row, only row 2 kept -> 0.110944 / 2 = 0.055472
    // node 1: correct CE with labels (= through): CE of (1,0) at label 0 = ln(1 + e^-1) = 0.313262 per row
    const z = [tf.zeros([2, 2]) as tf.Tensor2D, tf.tensor2d([[1, 0], [0, 1]]), tf.tensor2d([[0, 1], [0, 1]])];
    const gates = parseGates('ktg', 'through linear correct / cutoff correct cutoff / cutoff cutoff cutoff', parseNodes('ktg', 'student teacher', 'resnet20'));
    const terms = graphLosses(gates, z, tf.tensor1d([0, 1], 'int32'), 1, 0.5);
    expect(Object.keys(terms).sort()).toEqual(['ce', 'kl1', 'kl2', 'node1/ce']);
    expect(value(terms.ce!)).toBeCloseTo(0.693147, 5);
    expect(value(terms.kl1!)).toBeCloseTo(0.055472, 5);
    expect(value(terms.kl2!)).toBeCloseTo(0.055472, 5);
    expect(value(terms['node1/ce']!)).toBeCloseTo(0.313262, 5);
  });
});

describe('ktg graph as hyperparameters', () => {
  it('parses nodes: trained, the run\'s teacher, stored teachers (loaded from the store in node order)', () => {
    const nodes = parseNodes('ktg', 'student resnet14 teacher teacher:1 resnet8:2', 'resnet20');
    expect(nodes).toEqual([
      { kind: 'trained', model: '' }, { kind: 'trained', model: 'resnet14' }, { kind: 'teacher' },
      { kind: 'stored', model: 'resnet20', seed: 1 }, { kind: 'stored', model: 'resnet8', seed: 2 },
    ]);
    expect(storedTeachers(nodes)).toEqual([{ model: 'resnet20', seed: 1 }, { model: 'resnet8', seed: 2 }]);
    expect(ktg.extraTeachers!({ ...ktg.defaults, nodes: 'teacher:3' }, 'resnet20')).toEqual([{ model: 'resnet20', seed: 3 }]);
  });

  it('refuses bad graphs, one clear line each', () => {
    const nodes = parseNodes('ktg', 'student teacher', 'resnet20');
    const bad = (text: string) => () => parseGates('ktg', text, nodes);
    expect(bad('through through / through through')).toThrow(/gates must be 3 rows separated by '\/' of 3 gates each \(one per source node\), got 2 row\(s\) of 2, 2/);
    expect(bad('through through through / through through through / cutoff cutoff')).toThrow(/got 3 row\(s\) of 3, 3, 2/);
    expect(bad('through through corr / through through through / cutoff cutoff cutoff')).toThrow(/gates row 0: 'corr' is not one of through, cutoff, linear, correct/);
    expect(bad('cutoff cutoff cutoff / through through through / cutoff cutoff cutoff')).toThrow(/gates row 0: node 0 is trained, so at least one of its gates must not be cutoff/);
    expect(bad('through through through / through through through / through cutoff cutoff')).toThrow(/gates row 2: node 2 is pre-trained and fixed, so all its gates must be cutoff/);
    expect(() => parseNodes('ktg', 'resnet999', 'resnet20')).toThrow(/nodes entry 'resnet999': unknown model 'resnet999'/);
    expect(() => parseNodes('ktg', '  ', 'resnet20')).toThrow(/nodes lists no network/);
    expect(() => parseNodes('ktg', 'res,net', 'resnet20')).toThrow(ConfigError);
  });
});

describe('ktg search', () => {
  it('sampleGraphs: distinct matrices, trained rows never all cutoff, fixed rows all cutoff; seeded', () => {
    const nodes = parseNodes('ktg', 'student teacher', 'resnet20');
    const graphs = sampleGraphs(new Rng(4), nodes, 20);
    expect(graphs).toHaveLength(20);
    expect(new Set(graphs.map((g) => JSON.stringify(g))).size).toBe(20);
    for (const g of graphs) {
      expect(g[0]!.some((x) => x !== 'cutoff') && g[1]!.some((x) => x !== 'cutoff')).toBe(true);
      expect(g[2]).toEqual(['cutoff', 'cutoff', 'cutoff']);
    }
    expect(sampleGraphs(new Rng(4), nodes, 20)).toEqual(graphs);
  });

  it('successiveHalving: rungs of e, 2e, 4e epochs keep the better half until one is left', () => {
    const calls: [number, number][] = [];
    // candidate c scores c at every rung, except candidate 1 which drops at the second rung
    const { best, scores } = successiveHalving(5, 1, (c, e) => { calls.push([c, e]); return c === 1 && e > 1 ? -1 : [3, 9, 1, 7, 5][c]!; });
    // rung 0 (1 epoch): all 5, keep 3 (9, 7, 5: candidates 1, 3, 4); rung 1 (2 epochs): 1 drops, keep 2 (3, 4); rung 2 (4 epochs): keep 3
    expect(calls).toEqual([[0, 1], [1, 1], [2, 1], [3, 1], [4, 1], [1, 2], [3, 2], [4, 2], [3, 4], [4, 4]]);
    expect(best).toBe(3);
    expect(scores[3]!.map((s) => s.epochs)).toEqual([1, 2, 4]);
    expect(successiveHalving(1, 1, () => { throw new Error('not called'); }).best).toBe(0);
  });
});

describe('ktg metadata', () => {
  it('cites its paper and says where it departs', () => {
    expect(ktg.paper?.url).toContain('1909.04286');
    expect([ktg.family, ktg.knowledge, ktg.scheme, ktg.teacher]).toEqual(['graph', 'response', 'online', 'required']);
    expect(Object.keys(ktg.hyperDocs).sort()).toEqual(Object.keys(ktg.defaults).sort());
    expect(ktg.hyperDocs.gates).toMatch(/through \| cutoff \| linear \| correct/);
    expect(ktg.deviations).toMatch(/test accuracy/);
  });
});
