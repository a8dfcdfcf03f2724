import { describe, expect, it } from 'vitest';
import { Rng } from '@kdbench/engine';
import { assignmentCost, linearSumAssignment } from '../src/losses/assignment.js';

/** The cheapest assignment by trying every injective map of rows to columns. */
function bruteForce(cost: number[], rows: number, cols: number): number {
  let best = Infinity;
  const used = new Array<boolean>(cols).fill(false);
  const walk = (r: number, sum: number) => {
    if (r === rows) {
      best = Math.min(best, sum);
      return;
    }
    for (let c = 0; c < cols; c++) {
      if (used[c]) continue;
      used[c] = true;
      walk(r + 1, sum + cost[r * cols + c]!);
      used[c] = false;
    }
  };
  walk(0, 0);
  return best;
}

const isInjective = (cols: Int32Array) => new Set(cols).size === cols.length;

describe('linearSumAssignment', () => {
  it('solves a 3x3 example worked by hand', () => {
    // rows x cols:      c0 c1 c2
    //              r0 [  4, 1, 3 ]
    //              r1 [  2, 0, 5 ]
    //              r2 [  3, 2, 2 ]
    // the 6 permutations cost: (0,1,2) 4+0+2=6, (0,2,1) 4+5+2=11, (1,0,2) 1+2+2=5,
    // (1,2,0) 1+5+3=9, (2,0,1) 3+2+2=7, (2,1,0) 3+0+3=6 -> the best is r0->c1, r1->c0, r2->c2 (5)
    const cost = [4, 1, 3, 2, 0, 5, 3, 2, 2];
    const cols = linearSumAssignment(cost, 3, 3);
    expect(Array.from(cols)).toEqual([1, 0, 2]);
    expect(assignmentCost(cost, 3, cols)).toBe(5);
  });

  it('leaves the dearest columns free when there are more columns than rows', () => {
    // r0 [ 9, 1, 8, 7 ]; r1 [ 2, 3, 9, 9 ]: r0->c1 (1), r1->c0 (2); c2, c3 stay free
    const cost = [9, 1, 8, 7, 2, 3, 9, 9];
    expect(Array.from(linearSumAssignment(cost, 2, 4))).toEqual([1, 0]);
  });

  it("matches MGD's tiled channel costs: each student channel gets two teacher channels", () => {
    // the research notes' example (numpy): 2 student x 4 teacher channels, cost 2 - 2 cos, tiled twice;
    // the minimum is 4.059715, with student 0 -> teacher {0, 2} and student 1 -> teacher {1, 3}
    const c = [[0, 2.632456, 3.414214, 0.698417], [1.105573, 0.585786, 3.897367, 0.059715]];
    const tiled = [...c[0]!, ...c[1]!, ...c[0]!, ...c[1]!];
    const cols = linearSumAssignment(tiled, 4, 4);
    expect(assignmentCost(tiled, 4, cols)).toBeCloseTo(4.059715, 6);
    expect(new Set([cols[0], cols[2]])).toEqual(new Set([0, 2]));
    expect(new Set([cols[1], cols[3]])).toEqual(new Set([1, 3]));
  });

  it('finds the optimum of random matrices (against brute force), square and wide, with ties and negatives', () => {
    const rng = new Rng(11);
    for (let trial = 0; trial < 60; trial++) {
      const rows = 1 + Math.floor(rng.next() * 5);
      const cols = rows + Math.floor(rng.next() * 3);
      // every third matrix has small integer costs, so ties are common
      const cost = Array.from({ length: rows * cols }, () => (trial % 3 === 0 ? Math.floor(rng.next() * 3) : 10 * rng.next() - 5));
      const assigned = linearSumAssignment(cost, rows, cols);
      expect(isInjective(assigned)).toBe(true);
      expect(assignmentCost(cost, cols, assigned)).toBeCloseTo(bruteForce(cost, rows, cols), 9);
    }
  });

  it('is deterministic and handles the empty problem', () => {
    const rng = new Rng(3);
    const cost = Array.from({ length: 64 }, () => Math.floor(rng.next() * 4));
    expect(Array.from(linearSumAssignment(cost, 8, 8))).toEqual(Array.from(linearSumAssignment(cost, 8, 8)));
    expect(linearSumAssignment([], 0, 3)).toHaveLength(0);
  });

  it('refuses a bad problem with a message naming it', () => {
    expect(() => linearSumAssignment([1, 2, 3, 4, 5, 6], 3, 2)).toThrow(/more rows \(3\) than columns \(2\)/);
    expect(() => linearSumAssignment([1, 2, 3], 2, 2)).toThrow(/3 costs for a 2 x 2 matrix/);
    expect(() => linearSumAssignment([1, NaN, 3, 4], 2, 2)).toThrow(/cost\[0\]\[1\] is NaN/);
    expect(() => linearSumAssignment([1, 2], 1.5, 2)).toThrow(/non-negative integers/);
  });
});
