import { describe, expect, it } from 'vitest';
import { classOrder, defaultTasks, rowsOfClasses, taskClasses } from '../src/tasks.js';
import { classMean, herding, normalizeRows } from '../src/herding.js';
import { ExemplarMemory } from '../src/memory.js';
import { incrementalSummary } from '../src/metrics.js';

describe('class orders and task splits', () => {
  it('orders the classes by a seeded permutation', () => {
    const a = classOrder(10, 1993);
    expect([...a].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(classOrder(10, 1993)).toEqual(a);
    expect(classOrder(10, 7)).not.toEqual(a);
    expect(() => classOrder(0, 1)).toThrow(/positive integer/);
  });

  it('cuts an order into equal consecutive tasks', () => {
    expect(taskClasses([3, 1, 4, 0, 2, 5], 3)).toEqual([[3, 1], [4, 0], [2, 5]]);
    expect(taskClasses(classOrder(100, 1), 10).map((t) => t.length)).toEqual(Array(10).fill(10));
    expect(() => taskClasses([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 3)).toThrow(/cannot be cut into 3 equal tasks/);
    expect(defaultTasks(10)).toBe(5);
    expect(defaultTasks(100)).toBe(10);
  });

  it('finds the rows of a set of classes in split order', () => {
    expect([...rowsOfClasses([0, 1, 2, 1, 0, 3], [1, 0])]).toEqual([0, 1, 3, 4]);
    expect(rowsOfClasses([2, 2], [0]).length).toBe(0);
  });
});

describe('herding (iCaRL Algorithm 4)', () => {
  // a = (1,0), b = (0,1), c = (0.6,0.8); mu = (1.6/3, 1.8/3) = (0.5333, 0.6)
  // step 1: |mu-a|^2 = 0.5778, |mu-b|^2 = 0.4444, |mu-c|^2 = 0.0444            -> c
  // step 2: (c+a)/2 = (0.8,0.4): 0.1111; (c+b)/2 = (0.3,0.9): 0.1444           -> a
  // step 3: b
  const pts = new Float32Array([1, 0, 0, 1, 0.6, 0.8]);

  it('picks the exemplars that keep their mean closest to the class mean', () => {
    expect(herding(pts, 2, 3)).toEqual([2, 0, 1]);
    expect(herding(pts, 2, 2)).toEqual([2, 0]);
    expect(herding(pts, 2, 10)).toEqual([2, 0, 1]);
  });

  it('normalises the features first (scaling a sample changes nothing)', () => {
    expect(herding(new Float32Array([5, 0, 0, 1, 3, 4]), 2, 3)).toEqual([2, 0, 1]);
    expect([...normalizeRows(new Float32Array([3, 4, 0, 0]), 2)]).toEqual([0.6, 0.8, 0, 0].map(Math.fround));
  });

  it('class means are normalised means of normalised features', () => {
    // (3,4) -> (0.6,0.8), (0,2) -> (0,1); mean (0.3,0.9), norm sqrt(0.9) = 0.948683
    const m = classMean(new Float32Array([3, 4, 0, 2]), 2);
    expect(m[0]).toBeCloseTo(0.316228, 5);
    expect(m[1]).toBeCloseTo(0.948683, 5);
    expect(() => herding(new Float32Array(5), 2, 1)).toThrow(/not rows of 2/);
  });
});

describe('exemplar memory (fixed total size)', () => {
  it('shares K slots among the seen classes and reduces by keeping a prefix', () => {
    expect(ExemplarMemory.perClass(2000, 3)).toBe(666);
    const m = new ExemplarMemory();
    m.set(4, [10, 2, 7]);
    m.set(1, [5, 0, 9]);
    expect([...m.rows()]).toEqual([5, 0, 9, 10, 2, 7]);
    m.reduce(2);
    expect(m.of(4)).toEqual([10, 2]);
    expect(m.size).toBe(4);
  });

  it('round-trips through one number per training row', () => {
    const labels = [1, 1, 4, 0, 0, 1, 0, 4, 0, 1, 4];
    const m = new ExemplarMemory();
    m.set(4, [10, 2, 7]);
    m.set(1, [5, 0, 9]);
    const code = m.encode(labels.length);
    expect([...code]).toEqual([2, 0, 2, 0, 0, 1, 0, 3, 0, 3, 1]);
    const back = ExemplarMemory.decode(code, labels);
    expect(back.classes()).toEqual([1, 4]);
    expect(back.of(4)).toEqual([10, 2, 7]);
    expect(back.of(1)).toEqual([5, 0, 9]);
  });
});

describe('incremental metrics', () => {
  it('average incremental accuracy, last accuracy and forgetting', () => {
    // AIA = (90+70+60)/3 = 73.33; forgetting: task0 max(90,50)-40 = 50, task1 90-60 = 30 -> 40
    const s = incrementalSummary([90, 70, 60], [[90], [50, 90], [40, 60, 80]]);
    expect(s.averageIncremental).toBeCloseTo(73.3333, 3);
    expect(s.last).toBe(60);
    expect(s.forgetting).toBe(40);
    expect(incrementalSummary([55], [[55]]).forgetting).toBe(0);
    expect(() => incrementalSummary([1, 2], [[1], [1]])).toThrow(/row 1 has 1 accuracies/);
  });
});
