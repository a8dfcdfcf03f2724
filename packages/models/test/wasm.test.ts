/**
 * Backend independence: weights come from the seeded Rng (not the backend), and batch norm's
 * elementary-op formulation differentiates on wasm, which has no fused batch-norm gradient.
 * (Conv gradient kernels on wasm are tested against cpu in the engine package.)
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tf } from '@kdbench/engine';
import { createModel, layers, weightsHash } from '../src/index.js';

beforeAll(async () => {
  await initEngine({ backend: 'wasm' }); // registers wasm with kdbench's extra kernels
  await tf.setBackend('cpu');
});

describe('cpu vs wasm', () => {
  it('same seed gives identical weights and matching outputs on both backends', async () => {
    await tf.setBackend('cpu');
    const a = createModel('mobilenetv2', { numClasses: 10, seed: 5, widthFactor: 0.25 });
    const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 4);
    const xs = await x.array();
    const outCpu = tf.tidy(() => a.forward(x as tf.Tensor4D, { training: false }).logits.arraySync());
    const hashCpu = weightsHash(a);
    x.dispose();
    a.dispose();

    await tf.setBackend('wasm');
    try {
      const b = createModel('mobilenetv2', { numClasses: 10, seed: 5, widthFactor: 0.25 });
      expect(weightsHash(b)).toBe(hashCpu);
      const xw = tf.tensor4d(xs as number[][][][]);
      const outWasm = tf.tidy(() => b.forward(xw, { training: false }).logits.arraySync());
      outWasm.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(outCpu[i]![j]!, 3)));
      xw.dispose();
      b.dispose();
    } finally {
      await tf.setBackend('cpu');
    }
  });

  it('batch-norm gradients and running-stat updates work on wasm without leaks', async () => {
    await tf.setBackend('wasm');
    try {
      const store = new layers.ParamStore(0);
      const bn = new layers.BatchNorm(new layers.Scope(store).child('bn'), 3);
      const x = tf.randomNormal([2, 3, 3, 3], 1, 2, 'float32', 7) as tf.Tensor4D;
      const before = tf.memory().numTensors;
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(bn.apply(x, true))) as tf.Scalar, [bn.gamma, bn.beta]);
      // d/dgamma sum(y^2) = 2 sum(xhat^2) = 2 * 18 per channel; d/dbeta = 2 sum(xhat) = 0
      grads[bn.gamma.name]!.dataSync().forEach((g) => expect(g).toBeCloseTo(36, 2));
      grads[bn.beta.name]!.dataSync().forEach((g) => expect(Math.abs(g)).toBeLessThan(1e-4));
      expect(Array.from(bn.runningMean.dataSync()).some((v) => v !== 0)).toBe(true);
      tf.dispose([value, ...Object.values(grads)]);
      expect(tf.memory().numTensors).toBe(before);
      x.dispose();
      store.dispose();
    } finally {
      await tf.setBackend('cpu');
    }
  });
});
