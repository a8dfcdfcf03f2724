import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tf } from '@kdbench/engine';
import { Adam } from '../src/optim/adam.js';

beforeAll(async () => { await initEngine({ backend: 'cpu' }); });

describe('Adam (PyTorch formulation)', () => {
  it('matches hand-computed updates with bias correction over two steps, and round-trips its state', () => {
    const w = tf.variable(tf.tensor1d([1, -2]));
    const adam = new Adam({ beta1: 0.9, beta2: 0.999, weightDecay: 0.1 });
    // step 1: g' = g + 0.1 w = [0.5+0.1, 1-0.2] = [0.6, 0.8]; m = 0.1 g', v = 0.001 g'^2;
    // mhat = g', vhat = g'^2 -> w -= lr * g'/(|g'|+1e-8) = lr * sign(g')
    adam.apply(0.01, [w], { [w.name]: tf.tensor1d([0.5, 1]) });
    const w1 = Array.from(w.dataSync());
    expect(w1[0]).toBeCloseTo(1 - 0.01, 6);
    expect(w1[1]).toBeCloseTo(-2 - 0.01, 6);
    // step 2 with g = [0, 0]: g' = 0.1 w1; m = 0.9*0.1*g1' + 0.1*g2'; v = 0.999*0.001*g1'^2 + 0.001*g2'^2
    const g1 = [0.6, 0.8];
    const g2 = w1.map((x) => 0.1 * x);
    const expected = w1.map((x, i) => {
      const m = 0.9 * 0.1 * g1[i]! + 0.1 * g2[i]!;
      const v = 0.999 * 0.001 * g1[i]! ** 2 + 0.001 * g2[i]! ** 2;
      return x - (0.01 * (m / (1 - 0.9 ** 2))) / (Math.sqrt(v / (1 - 0.999 ** 2)) + 1e-8);
    });
    adam.apply(0.01, [w], { [w.name]: tf.tensor1d([0, 0]) });
    Array.from(w.dataSync()).forEach((x, i) => expect(x).toBeCloseTo(expected[i]!, 6));
    const state = adam.state('opt/', () => 'w');
    expect(state.map((s) => s.name)).toEqual(['opt/w#m', 'opt/w#v', 'opt/w#t']);
    const copy = new Adam({ beta1: 0.9, beta2: 0.999 });
    copy.load('opt/', [w], () => 'w', new Map(state.map((s) => [s.name, s.variable as tf.Tensor])));
    expect(copy.state('opt/', () => 'w').map((s) => Array.from(s.variable.dataSync()))).toEqual(state.map((s) => Array.from(s.variable.dataSync())));
    expect(() => new Adam({ beta1: 1, beta2: 0.9 })).toThrow(/beta1/);
    adam.dispose();
    copy.dispose();
    w.dispose();
  });
});
