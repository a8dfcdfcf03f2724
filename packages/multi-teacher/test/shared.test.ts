/** The shared multi-teacher pieces: the teachers hyperparameter, ensembles, accuracies, the min-norm solver. */
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '@kdbench/core';
import { tf } from '@kdbench/engine';
import type { Model } from '@kdbench/models';
import { avgkd } from '../src/avgkd.js';
import {
  averagedEnsemble, averagedSoftTargetKL, ensembleOf, parseTeachers, rowKL, teacherAccuracies,
} from '../src/shared/ensemble.js';
import { gramOf, minNormWeights, projectCappedSimplex } from '../src/shared/min-norm.js';
import { klLoop, softmaxLoop, stub, stubContext, value } from './helpers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('the teachers hyperparameter', () => {
  it('parses model:seed lists, with teacher standing for the run\'s teacher architecture', () => {
    expect(parseTeachers('m', 'resnet32:1, resnet14:2', 'resnet20')).toEqual([{ model: 'resnet32', seed: 1 }, { model: 'resnet14', seed: 2 }]);
    expect(parseTeachers('m', 'teacher:1,teacher:2', 'wrn_40_2')).toEqual([{ model: 'wrn_40_2', seed: 1 }, { model: 'wrn_40_2', seed: 2 }]);
    expect(parseTeachers('m', '', 'resnet20')).toEqual([]);
    expect(avgkd.extraTeachers!(avgkd.defaults, 'resnet20')).toEqual([{ model: 'resnet20', seed: 1 }, { model: 'resnet20', seed: 2 }]);
  });

  it('rejects malformed entries, unknown models and repeats with a ConfigError naming the method', () => {
    expect(() => parseTeachers('avgkd', 'resnet32', 'resnet20')).toThrow(ConfigError);
    expect(() => parseTeachers('avgkd', 'resnet32', 'resnet20')).toThrow(/method 'avgkd': teachers entry 'resnet32' is not model:seed/);
    expect(() => parseTeachers('avgkd', 'resnet32:-1', 'resnet20')).toThrow(/is not model:seed/);
    expect(() => parseTeachers('avgkd', 'resnet32:1.5', 'resnet20')).toThrow(/is not model:seed/);
    expect(() => parseTeachers('avgkd', 'resnet99:1', 'resnet20')).toThrow(/unknown model 'resnet99'/);
    expect(() => parseTeachers('avgkd', 'teacher:1,resnet20:1', 'resnet20')).toThrow(/lists resnet20:1 twice/);
  });

  it('the ensemble is the run\'s teacher then the extra teachers, skipping copies of the run\'s teacher', () => {
    const t = stub('resnet20', 0);
    const extra = [stub('resnet20', 0), stub('resnet32', 1), stub('resnet20', 2), stub('resnet32', 1)];
    const { models, extra: kept } = ensembleOf(stubContext(avgkd, {}, t, extra));
    expect(models.map((m) => `${m.id}:${m.options.seed}`)).toEqual(['resnet20:0', 'resnet32:1', 'resnet20:2']);
    expect(kept).toEqual([1, 2]);
    expect(() => avgkd.create(stubContext(avgkd, {}, t, [stub('resnet20', 0)]))).toThrow(/needs at least 2 distinct teachers, got 1/);
  });
});

describe('ensemble outputs and accuracies', () => {
  it('averagedSoftTargetKL is KL(mean of softened teacher distributions || student), by hand', () => {
    // T = 1: p1 = softmax(0, 0) = (1/2, 1/2), p2 = softmax(ln 3, 0) = (3/4, 1/4), mean (5/8, 3/8); student (1/2, 1/2):
    // KL = 5/8 ln(5/4) + 3/8 ln(3/4) = 0.139465 - 0.107881 = 0.031584
    const kl = averagedSoftTargetKL(tf.tensor2d([[0, 0]]), [tf.tensor2d([[0, 0]]), tf.tensor2d([[Math.log(3), 0]])], 1);
    expect(value(kl)).toBeCloseTo(0.0315839, 6);
    // T = 2, two rows, three classes: a plain loop, times T^2, batch-averaged
    const s = [[1, 2, 0], [0.5, -1, 2]], t1 = [[2, 0, 1], [1, 1, 0]], t2 = [[0, 3, -1], [2, -2, 1]];
    const loop = s.map((row, b) => {
      const p = softmaxLoop(t1[b]!, 2).map((v, c) => (v + softmaxLoop(t2[b]!, 2)[c]!) / 2);
      return 4 * klLoop(p, softmaxLoop(row, 2));
    });
    expect(value(averagedSoftTargetKL(tf.tensor2d(s), [tf.tensor2d(t1), tf.tensor2d(t2)], 2))).toBeCloseTo((loop[0]! + loop[1]!) / 2, 5);
    const rows = rowKL(tf.tensor2d(s), tf.tensor2d(t1), 2).arraySync();
    s.forEach((row, b) => expect(rows[b]).toBeCloseTo(4 * klLoop(softmaxLoop(t1[b]!, 2), softmaxLoop(row, 2)), 5));
  });

  it('the averaged ensemble predicts from the mean of the members\' probabilities', () => {
    const member = (logits: number[][], seed: number): Model => ({
      ...stub('resnet8', seed), forward: () => ({ logits: tf.tensor2d(logits), features: [], embedding: tf.tensor2d(logits) }),
    } as unknown as Model);
    // row 0: member A is sure of class 0 (p = 0.99..), member B mildly prefers class 1 -> mean favours class 0
    const a = member([[5, 0], [0, 0.1]], 1), b = member([[0, 0.5], [0, 3]], 2);
    const logits = averagedEnsemble([a, b]).forward(tf.zeros([2, 32, 32, 3]) as tf.Tensor4D, { training: false }).logits;
    const p = tf.exp(logits).arraySync() as number[][];
    const pa = [softmaxLoop([5, 0]), softmaxLoop([0, 0.1])], pb = [softmaxLoop([0, 0.5]), softmaxLoop([0, 3])];
    for (let r = 0; r < 2; r++) for (let c = 0; c < 2; c++) expect(p[r]![c]).toBeCloseTo((pa[r]![c]! + pb[r]![c]!) / 2, 5);
    const acc = teacherAccuracies([a, b], (m) => ({ top1: m === a ? 61 : m === b ? 62 : 70 }));
    expect(acc).toEqual({ 'teacher:resnet8:s1': 61, 'teacher:resnet8:s2': 62, ensemble: 70 });
    expect(teacherAccuracies([a], () => ({ top1: 50 }))).toEqual({ 'teacher:resnet8:s1': 50 });
  });
});

describe('AE-KD min-norm weights on the capped simplex', () => {
  it('projects onto { sum w = 1, 0 <= w <= C }', () => {
    expect(projectCappedSimplex([0.2, 0.3, 0.5], 1)).toEqual([0.2, 0.3, 0.5].map((x) => expect.closeTo(x, 9)));
    // shift tau: (2 - tau) capped at 0.6, (0 - tau) -> tau = -0.4 gives 0.6 + 0.4 = 1
    expect(projectCappedSimplex([2, 0], 0.6).map((x) => +x.toFixed(9))).toEqual([0.6, 0.4]);
    // equal shift: (1 - tau) + (0 - tau) = 1 -> tau = 0 -> (1, 0)
    expect(projectCappedSimplex([1, 0], 1).map((x) => +x.toFixed(9))).toEqual([1, 0]);
    expect(() => projectCappedSimplex([1, 2, 3], 0.2)).toThrow(/below 1\/3/);
  });

  it('solves hand-made gradient configurations', () => {
    // orthogonal unit gradients: min (w1^2 + w2^2)/2 on the simplex -> (1/2, 1/2)
    expect(minNormWeights(gramOf([[1, 0], [0, 1]]), 1).map((w) => +w.toFixed(6))).toEqual([0.5, 0.5]);
    // g2 = 2 g1: the norm (w1 + 2 w2) |g1| is smallest with all weight on g1; capped at C = 0.6 -> (0.6, 0.4)
    expect(minNormWeights(gramOf([[1, 0], [2, 0]]), 1).map((w) => +w.toFixed(6))).toEqual([1, 0]);
    expect(minNormWeights(gramOf([[1, 0], [2, 0]]), 0.6).map((w) => +w.toFixed(6))).toEqual([0.6, 0.4]);
    // g1 = (1, 0), g2 = (-1, 1): |w g1 + (1-w) g2|^2 = (2w - 1)^2 + (1 - w)^2, derivative 10 w - 6 = 0 -> w = 0.6
    expect(minNormWeights(gramOf([[1, 0], [-1, 1]]), 1).map((w) => +w.toFixed(6))).toEqual([0.6, 0.4]);
    // a cap below 1/K is raised to 1/K (the reference clamps nu): uniform weights
    expect(minNormWeights(gramOf([[1, 0], [2, 0], [3, 0]]), 0.1).map((w) => +w.toFixed(6))).toEqual([1 / 3, 1 / 3, 1 / 3].map((x) => +x.toFixed(6)));
    expect(minNormWeights([[4]], 0.6)).toEqual([1]);
    expect(minNormWeights(gramOf([[0, 0], [0, 0]]), 0.6)).toEqual([0.5, 0.5]);
  });

  it('matches a brute-force grid search for three teachers', () => {
    const g = [[1, 0.5, -0.2], [-0.3, 1, 0.4], [0.2, -0.6, 0.9]];
    const gram = gramOf(g);
    const f = (w: number[]) => {
      const v = [0, 1, 2].map((c) => w.reduce((s, wi, m) => s + wi * g[m]![c]!, 0));
      return v.reduce((s, x) => s + x * x, 0) / 2;
    };
    for (const cap of [1, 0.5, 0.4]) {
      let best = Infinity;
      for (let a = 0; a <= 1000; a++) {
        for (let b = 0; a + b <= 1000; b++) {
          const w = [a / 1000, b / 1000, (1000 - a - b) / 1000];
          if (w.every((x) => x <= cap + 1e-12)) best = Math.min(best, f(w));
        }
      }
      const w = minNormWeights(gram, cap);
      expect(w.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 9);
      expect(Math.max(...w)).toBeLessThanOrEqual(cap + 1e-9);
      expect(f(w)).toBeLessThanOrEqual(best + 1e-9);
      expect(f(w)).toBeGreaterThan(best - 1e-4);
    }
  });
});
