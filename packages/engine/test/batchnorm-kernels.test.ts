/**
 * The native fused training batch-norm kernels on wasm (normalisation, optional residual sum and
 * ReLU; registered gradient) against the same formula composed from elementary ops and
 * differentiated by tfjs on the cpu backend, on shapes small (one thread) and large enough for the
 * rows to be split over threads.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { fusedBatchNormAvailable, fusedBatchNormTrain, fusedChannelAffine, fusedChannelAffineAvailable, nativeStatus, Rng, tf } from '../src/index.js';
import { compare, randomValues, setupBackends } from './helpers.js';

beforeAll(setupBackends);

const EPS = 1e-5;
const CASES = [[2, 3, 3, 5], [8, 32, 32, 16], [64, 4, 4, 64]].flatMap((shape) =>
  [{ relu: false, residual: false }, { relu: true, residual: false }, { relu: false, residual: true }, { relu: true, residual: true }]
    .map((o) => ({ shape, ...o, name: `${shape.join('x')}${o.relu ? ' relu' : ''}${o.residual ? ' residual' : ''}` })));

type Values = { x: Float32Array; gamma: Float32Array; beta: Float32Array; res: Float32Array; w: Float32Array };

/** Forward outputs and the gradients of sum(out * w) for x, gamma, beta and the residual. */
function run(v: Values, shape: number[], relu: boolean, residual: boolean, fused: boolean): Float32Array[] {
  const c = shape[3]!;
  return tf.tidy(() => {
    const w = tf.tensor(v.w, shape);
    const res = tf.tensor(v.res, shape);
    const forward = (x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, r: tf.Tensor) => {
      if (fused) {
        const f = fusedBatchNormTrain(x, gamma, beta, EPS, { relu, ...(residual ? { residual: r } : {}) });
        return { out: f.out, mean: f.mean, variance: f.variance };
      }
      const mean = tf.mean(x, [0, 1, 2]);
      const variance = tf.mean(tf.square(tf.sub(x, mean)), [0, 1, 2]);
      let out = tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, EPS))), gamma), beta);
      if (residual) out = tf.add(out, r);
      return { out: relu ? tf.relu(out) : out, mean, variance };
    };
    const { out, mean, variance } = forward(tf.tensor(v.x, shape), tf.tensor1d(v.gamma), tf.tensor1d(v.beta), res);
    const args = [tf.tensor(v.x, shape), tf.tensor1d(v.gamma), tf.tensor1d(v.beta), ...(residual ? [res] : [])];
    const grads = tf.grads((x, gamma, beta, r) => tf.sum(tf.mul(forward(x!, gamma!, beta!, r ?? res).out, w)))(args);
    expect(mean.shape).toEqual([c]);
    return [out, mean, variance, ...grads].map((t) => t.dataSync() as Float32Array);
  });
}

describe.skipIf(!nativeStatus().loaded)('fused batch norm on wasm', () => {
  it('is available on wasm only', async () => {
    await tf.setBackend('cpu');
    expect(fusedBatchNormAvailable()).toBe(false);
    await tf.setBackend('wasm');
    expect(fusedBatchNormAvailable()).toBe(true);
  });

  it.each(CASES)('forward and gradients: $name', async ({ shape, relu, residual }) => {
    const rng = new Rng(shape[3]! + (relu ? 1000 : 0) + (residual ? 2000 : 0));
    const c = shape[3]!;
    const v: Values = {
      x: randomValues(rng, shape).map((a) => 3 * a + 1),
      gamma: randomValues(rng, [c]),
      beta: randomValues(rng, [c]),
      res: randomValues(rng, shape),
      w: randomValues(rng, shape),
    };
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    const got = run(v, shape, relu, residual, true);
    expect(tf.memory().numTensors).toBe(before);
    await tf.setBackend('cpu');
    const want = run(v, shape, relu, residual, false);
    expect(got.length).toBe(residual ? 7 : 6);
    ['out', 'mean', 'variance', 'dx', 'dgamma', 'dbeta', 'dresidual'].slice(0, got.length).forEach((name, i) => {
      expect(compare(got[i]!, want[i]!).rel, name).toBeLessThan(1e-4);
    });
    if (relu) expect(got[0]!.some((a) => a === 0) && got[0]!.every((a) => a >= 0)).toBe(true);
  });

  it('refuses a residual of another shape', async () => {
    await tf.setBackend('wasm');
    tf.tidy(() => {
      const x = tf.ones([2, 2, 2, 3]);
      expect(() => fusedBatchNormTrain(x, tf.ones([3]), tf.zeros([3]), EPS, { residual: tf.ones([2, 2, 2, 4]) })).toThrow(/residual shape/);
    });
  });
});

describe.skipIf(!nativeStatus().loaded)('fused channel affine (evaluation-mode batch norm) on wasm', () => {
  const shape = [4, 6, 6, 24];
  it.each([
    { relu: false, residual: false }, { relu: true, residual: false }, { relu: true, residual: true }, { relu: false, residual: true },
  ])('forward and gradients: relu $relu, residual $residual', async ({ relu, residual }) => {
    const rng = new Rng(5 + (relu ? 1 : 0) + (residual ? 2 : 0));
    const v = { x: randomValues(rng, shape), scale: randomValues(rng, [24]), shift: randomValues(rng, [24]), res: randomValues(rng, shape), w: randomValues(rng, shape) };
    const run = (fused: boolean) => tf.tidy(() => {
      const w = tf.tensor(v.w, shape);
      const f = (x: tf.Tensor, scale: tf.Tensor, shift: tf.Tensor, r?: tf.Tensor) => {
        if (fused) return fusedChannelAffine(x, scale, shift, { relu, ...(r ? { residual: r } : {}) });
        const y = tf.add(tf.mul(x, scale), shift);
        const s = r ? tf.add(y, r) : y;
        return relu ? tf.relu(s) : s;
      };
      const args = [tf.tensor(v.x, shape), tf.tensor1d(v.scale), tf.tensor1d(v.shift), ...(residual ? [tf.tensor(v.res, shape)] : [])];
      const out = f(args[0]!, args[1]!, args[2]!, args[3]);
      const grads = tf.grads((...a: tf.Tensor[]) => tf.sum(tf.mul(f(a[0]!, a[1]!, a[2]!, a[3]), w)))(args);
      return [out, ...grads].map((t) => t.dataSync() as Float32Array);
    });
    await tf.setBackend('wasm');
    expect(fusedChannelAffineAvailable()).toBe(true);
    const before = tf.memory().numTensors;
    const got = run(true);
    expect(tf.memory().numTensors).toBe(before);
    await tf.setBackend('cpu');
    const want = run(false);
    expect(got.length).toBe(residual ? 5 : 4);
    got.forEach((g, i) => expect(compare(g, want[i]!).rel, `output ${i}`).toBeLessThan(1e-5));
  });
});
