import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@kdbench/engine';
import { Sgd } from '../src/optim/sgd.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('Sgd (PyTorch formulation)', () => {
  it('matches hand-computed momentum and weight-decay updates', () => {
    const w = tf.variable(tf.tensor1d([1, -2]), true, 'w-sgd');
    const sgd = new Sgd({ momentum: 0.9, weightDecay: 0.1 });
    const g = tf.tensor1d([0.5, 0.5]);
    // step 1: g' = g + 0.1 w = [0.6, 0.3]; v = g'; w = w - 0.1 v = [0.94, -2.03]
    sgd.apply(0.1, [w], { 'w-sgd': g });
    expect(Array.from(w.dataSync())).toEqual([expect.closeTo(0.94, 6), expect.closeTo(-2.03, 6)]);
    // step 2: g' = [0.5 + 0.094, 0.5 - 0.203] = [0.594, 0.297]; v = 0.9*[0.6,0.3] + g' = [1.134, 0.567]
    sgd.apply(0.1, [w], { 'w-sgd': g });
    expect(Array.from(w.dataSync())).toEqual([expect.closeTo(0.94 - 0.1134, 6), expect.closeTo(-2.03 - 0.0567, 6)]);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) sgd.apply(0.1, [w], { 'w-sgd': g });
    expect(tf.memory().numTensors).toBe(before);
    sgd.dispose();
    tf.dispose([w, g]);
  });

  it('rejects bad settings', () => {
    expect(() => new Sgd({ momentum: 1, weightDecay: 0 })).toThrow(/momentum/);
    expect(() => new Sgd({ momentum: 0.9, weightDecay: -1 })).toThrow(/weight decay/);
  });
});
