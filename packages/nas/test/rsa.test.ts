import { describe, expect, it } from 'vitest';
import { pearson, rdmSimilarity, rdmUpper } from '../src/rsa.js';

describe('representational similarity (TG-SAGE)', () => {
  // f0 = (1,2,3), f1 = (3,2,1), f2 = (1,2,4)
  // pearson(f0,f1) = -1 -> 2; pearson(f0,f2) = 3 / sqrt(2 * 42/9) = 0.981981 -> 0.018019;
  // pearson(f1,f2) = -0.981981 -> 1.981981
  const a = new Float32Array([1, 2, 3, 3, 2, 1, 1, 2, 4]);

  it('builds the RDM upper triangle by hand', () => {
    const r = rdmUpper(a, 3);
    expect(r[0]).toBeCloseTo(2, 6);
    expect(r[1]).toBeCloseTo(0.018019, 5);
    expect(r[2]).toBeCloseTo(1.981981, 5);
  });

  it('is 1 for an affine copy of the responses and lower for another arrangement', () => {
    const b = a.map((v) => 2 * v + 1);
    expect(rdmSimilarity(a, b, 3)).toBeCloseTo(1, 6);
    // swap images 1 and 2 in the second network: RDM (0.018, 2, 1.982) vs (2, 0.018, 1.982)
    // centred: (0.6667, -1.3153, 0.6487) and (-1.3153, 0.6667, 0.6487): r = -1.3333 / 2.5953 = -0.5137
    const c = new Float32Array([1, 2, 3, 1, 2, 4, 3, 2, 1]);
    expect(rdmSimilarity(a, c, 3)).toBeCloseTo(-0.5137, 3);
    expect(pearson([1, 1], [1, 2])).toBe(0);
    expect(() => rdmUpper(a, 1)).toThrow(/>= 2 responses/);
  });
});
