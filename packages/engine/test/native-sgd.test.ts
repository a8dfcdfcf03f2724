/**
 * The fused native SGD update on wasm against the same formula as elementwise ops: float for float
 * on wasm (same operation order, no fused multiply-adds), within rounding of the cpu backend, over
 * variables small (one thread) and large (split over threads); bad slots are refused.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { fusedSgdAvailable, fusedSgdMomentum, nativeStatus, Rng, tf } from '../src/index.js';
import { randomValues, setupBackends } from './helpers.js';

beforeAll(setupBackends);

const SHAPES = [[3], [4, 5], [3, 3, 16, 16], [300, 400]];
const [LR, MOMENTUM, WD] = [0.05, 0.9, 5e-4];

function byOps(w: tf.Tensor, g: tf.Tensor, v: tf.Tensor) {
  const nv = tf.add(tf.mul(v, MOMENTUM), tf.add(g, tf.mul(w, WD)));
  return { w: tf.sub(w, tf.mul(nv, LR)), v: nv };
}

describe.skipIf(!nativeStatus().loaded)('fused SGD on wasm', () => {
  it('matches the elementwise ops float for float on wasm and the cpu backend within rounding, without leaks', async () => {
    const rng = new Rng(11);
    const data = SHAPES.map((s) => [randomValues(rng, s), randomValues(rng, s), randomValues(rng, s)] as const);
    const run = (fused: boolean) => tf.tidy(() => {
      const slots = data.map(([w, g, v], k) => ({ w: tf.tensor(w, SHAPES[k]), g: tf.tensor(g, SHAPES[k]), v: tf.tensor(v, SHAPES[k]) }));
      const out = fused ? fusedSgdMomentum(slots, LR, MOMENTUM, WD) : slots.map((s) => byOps(s.w, s.g, s.v));
      return out.flatMap((o) => [o.w.dataSync() as Float32Array, o.v.dataSync() as Float32Array]);
    });
    await tf.setBackend('wasm');
    expect(fusedSgdAvailable()).toBe(true);
    const before = tf.memory().numTensors;
    const fused = run(true);
    expect(tf.memory().numTensors).toBe(before);
    const ops = run(false);
    fused.forEach((a, i) => expect(Array.from(a)).toEqual(Array.from(ops[i]!)));
    await tf.setBackend('cpu');
    const cpu = run(false);
    fused.forEach((a, i) => a.forEach((x, j) => expect(Math.abs(x - cpu[i]![j]!)).toBeLessThan(1e-6 * Math.max(1, Math.abs(x)))));
  });

  it('refuses a gradient of another shape', async () => {
    await tf.setBackend('wasm');
    tf.tidy(() => {
      expect(() => fusedSgdMomentum([{ w: tf.ones([2, 2]), g: tf.ones([4]), v: tf.zeros([2, 2]) }], LR, MOMENTUM, WD)).toThrow(/slot 0: g/);
    });
  });
});
