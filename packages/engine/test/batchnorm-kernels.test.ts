/**
 * The native fused training batch-norm kernels on wasm against the formulas evaluated with
 * elementary ops on the cpu backend, on shapes small (one thread) and large enough for the rows to
 * be split over threads.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { fusedBatchNormAvailable, fusedBatchNormGrad, fusedBatchNormTrain, nativeStatus, Rng, tf } from '../src/index.js';
import { compare, randomValues, setupBackends } from './helpers.js';

beforeAll(setupBackends);

const SHAPES = [[2, 3, 3, 5], [8, 32, 32, 16], [64, 4, 4, 64]];
const EPS = 1e-5;

function onWasm<T>(f: () => T): T {
  tf.setBackend('wasm');
  return f();
}

describe.skipIf(!nativeStatus().loaded)('fused batch norm on wasm', () => {
  it('is available on wasm only', async () => {
    await tf.setBackend('cpu');
    expect(fusedBatchNormAvailable()).toBe(false);
    await tf.setBackend('wasm');
    expect(fusedBatchNormAvailable()).toBe(true);
  });

  it.each(SHAPES.map((shape) => ({ shape, name: shape.join('x') })))('forward and backward $name', async ({ shape }) => {
    const rng = new Rng(shape[3]!);
    const c = shape[3]!;
    const xv = randomValues(rng, shape).map((v) => 3 * v + 1);
    const gv = randomValues(rng, [c]);
    const bv = randomValues(rng, [c]);
    const dyv = randomValues(rng, shape);
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    const got = onWasm(() => tf.tidy(() => {
      const f = fusedBatchNormTrain(tf.tensor(xv, shape), tf.tensor1d(gv), tf.tensor1d(bv), EPS);
      const g = fusedBatchNormGrad(tf.tensor(dyv, shape), f.xhat, tf.tensor1d(gv), f.rstd);
      return [f.y, f.xhat, f.mean, f.variance, f.rstd, g.dx, g.dgamma, g.dbeta].map((t) => t.dataSync() as Float32Array);
    }));
    expect(tf.memory().numTensors).toBe(before);
    await tf.setBackend('cpu');
    const want = tf.tidy(() => {
      const x = tf.tensor(xv, shape);
      const gamma = tf.tensor1d(gv);
      const dy = tf.tensor(dyv, shape);
      const mean = tf.mean(x, [0, 1, 2]);
      const variance = tf.mean(tf.square(tf.sub(x, mean)), [0, 1, 2]);
      const rstd = tf.rsqrt(tf.add(variance, EPS));
      const xhat = tf.mul(tf.sub(x, mean), rstd);
      const y = tf.add(tf.mul(xhat, gamma), tf.tensor1d(bv));
      const m = x.size / c;
      const dbeta = tf.sum(dy, [0, 1, 2]);
      const dgamma = tf.sum(tf.mul(dy, xhat), [0, 1, 2]);
      const dx = tf.mul(tf.mul(gamma, rstd), tf.sub(tf.sub(dy, tf.div(dbeta, m)), tf.mul(xhat, tf.div(dgamma, m))));
      return [y, xhat, mean, variance, rstd, dx, dgamma, dbeta].map((t) => t.dataSync() as Float32Array);
    });
    ['y', 'xhat', 'mean', 'variance', 'rstd', 'dx', 'dgamma', 'dbeta'].forEach((name, i) => {
      expect(compare(got[i]!, want[i]!).rel, name).toBeLessThan(1e-4);
    });
  });
});
