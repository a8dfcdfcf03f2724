import { beforeAll, describe, expect, it } from 'vitest';
import { fusedSgdAvailable, initEngine, nativeStatus, tf } from '@kdbench/engine';
import { Sgd } from '../src/optim/sgd.js';

beforeAll(async () => {
  await initEngine({ backend: 'wasm' }); // registers the wasm kernels; each describe picks its backend
});

// cpu: six ops per variable; wasm with the native addon: one fused kernel for all variables
describe.each([
  { backend: 'cpu', fused: false },
  { backend: 'wasm', fused: nativeStatus().loaded },
])('Sgd (PyTorch formulation) on $backend', ({ backend, fused }) => {
  beforeAll(async () => {
    await tf.setBackend(backend);
  });

  it('uses the fused kernel exactly where it is available', () => {
    expect(fusedSgdAvailable()).toBe(fused);
  });

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

  it('updates several variables at once and skips those without a gradient', () => {
    const a = tf.variable(tf.tensor2d([[1, 2], [3, 4]]), true, `a-sgd-${backend}`);
    const b = tf.variable(tf.tensor1d([5]), true, `b-sgd-${backend}`);
    const sgd = new Sgd({ momentum: 0.5, weightDecay: 0 });
    const g = tf.tensor2d([[1, 1], [1, 1]]);
    sgd.apply(0.5, [a, b], { [a.name]: g });
    sgd.apply(0.5, [a, b], { [a.name]: g }); // v = 0.5 * 1 + 1 = 1.5: a = a - 0.5 - 0.75
    expect(Array.from(a.dataSync())).toEqual([-0.25, 0.75, 1.75, 2.75]);
    expect(Array.from(b.dataSync())).toEqual([5]);
    expect(sgd.state('', (w) => w.name).map((s) => s.name)).toEqual([a.name]);
    sgd.dispose();
    tf.dispose([a, b, g]);
  });

  it('rejects bad settings', () => {
    expect(() => new Sgd({ momentum: 1, weightDecay: 0 })).toThrow(/momentum/);
    expect(() => new Sgd({ momentum: 0.9, weightDecay: -1 })).toThrow(/weight decay/);
  });
});
