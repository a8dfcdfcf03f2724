/**
 * End to end: tf.grads of conv2d / depthwiseConv2d losses on wasm (so the gradient path runs the
 * new kernels) against the same on cpu, and no growth in tensors or backend buffers when the
 * gradients are computed repeatedly.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, tf } from '../src/index.js';
import { compare, randomValues, report, setupBackends } from './helpers.js';

type GradCase = { name: string; depthwise: boolean; x: number[]; f: number[]; s: number; pad: 'same' | 'valid' };

const CASES: GradCase[] = [
  { name: 'conv2d 3x9x9x3 f3x3x3x4 s1 same', depthwise: false, x: [3, 9, 9, 3], f: [3, 3, 3, 4], s: 1, pad: 'same' },
  { name: 'conv2d 3x8x8x4 f3x3x4x8 s2 same', depthwise: false, x: [3, 8, 8, 4], f: [3, 3, 4, 8], s: 2, pad: 'same' },
  { name: 'conv2d 1x9x9x2 f3x3x2x3 s2 valid', depthwise: false, x: [1, 9, 9, 2], f: [3, 3, 2, 3], s: 2, pad: 'valid' },
  { name: 'depthwise 3x8x8x4 m1 s1 same', depthwise: true, x: [3, 8, 8, 4], f: [3, 3, 4, 1], s: 1, pad: 'same' },
  { name: 'depthwise 3x9x9x3 m2 s2 same', depthwise: true, x: [3, 9, 9, 3], f: [3, 3, 3, 2], s: 2, pad: 'same' },
  { name: 'depthwise 1x8x8x2 m2 s2 valid', depthwise: true, x: [1, 8, 8, 2], f: [3, 3, 2, 2], s: 2, pad: 'valid' },
];

/** Loss = sum(conv(x, f) * r) so that dy = r is not trivial; returns [dx, df]. */
function gradients(c: GradCase, xv: Float32Array, fv: Float32Array, rv: Float32Array, rShape: number[]): Float32Array[] {
  return tf.tidy(() => {
    const x = tf.tensor4d(xv, c.x as [number, number, number, number]);
    const f = tf.tensor4d(fv, c.f as [number, number, number, number]);
    const r = tf.tensor(rv, rShape);
    const loss = (a: tf.Tensor, b: tf.Tensor) => {
      const y = c.depthwise
        ? tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.s, c.pad)
        : tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.s, c.pad);
      return tf.sum(tf.mul(y, r));
    };
    return tf.grads(loss)([x, f]).map((g) => g.dataSync() as Float32Array);
  });
}

function outShape(c: GradCase): number[] {
  return tf.backend_util.computeConv2DInfo(c.x as [number, number, number, number], c.f as [number, number, number, number], c.s, 1, c.pad, undefined, c.depthwise).outShape;
}

beforeAll(setupBackends);

describe('gradient path through tf.grads', () => {
  it.each(CASES)('$name matches cpu', async (c) => {
    const rng = new Rng(c.x[1]! * 10 + c.f[3]!);
    const xv = randomValues(rng, c.x);
    const fv = randomValues(rng, c.f);
    const rShape = outShape(c);
    const rv = randomValues(rng, rShape);
    await tf.setBackend('wasm');
    const got = gradients(c, xv, fv, rv, rShape);
    await tf.setBackend('cpu');
    const want = gradients(c, xv, fv, rv, rShape);
    await tf.setBackend('wasm');
    const names = ['dx', 'dfilter'];
    got.forEach((g, i) => {
      const cmp = compare(g, want[i]!);
      report(`tf.grads ${c.name} ${names[i]}`, cmp);
      expect(cmp.rel).toBeLessThan(1e-4);
    });
  });

  it('leaks no tensors or wasm buffers over repeated gradient steps (with the native kernels when built)', async () => {
    await tf.setBackend('wasm');
    const backend = tf.backend();
    const rng = new Rng(5);
    const x = tf.tensor4d(randomValues(rng, [2, 8, 8, 4]), [2, 8, 8, 4]);
    const w = tf.variable(tf.tensor4d(randomValues(rng, [3, 3, 4, 6]), [3, 3, 4, 6]));
    const dw = tf.variable(tf.tensor4d(randomValues(rng, [3, 3, 6, 2]), [3, 3, 6, 2]));
    const step = () => {
      const { value, grads } = tf.variableGrads(() => {
        const h = tf.conv2d(x, w, 2, 'same');
        const y = tf.depthwiseConv2d(h, dw, 1, 'same');
        const z = tf.matMul(tf.reshape(y, [2, -1]), tf.tile(tf.reshape(y, [2, -1]), [1, 1]), false, true);
        const pooled = tf.maxPool(h, 2, 2, 'valid'); // MaxPoolGrad
        const channels = tf.sum(pooled, [0, 1, 2]); // leading-axes Sum
        return tf.add(tf.sum(z), tf.sum(tf.square(channels)));
      });
      value.dispose();
      tf.dispose(grads);
    };
    step();
    const tensors = tf.memory().numTensors;
    const buffers = backend.numDataIds();
    const counts: number[] = [];
    for (let i = 0; i < 5; i++) {
      step();
      counts.push(tf.memory().numTensors, backend.numDataIds());
    }
    console.log(`numTensors ${tensors} -> ${counts.filter((_, i) => i % 2 === 0).join(',')}; wasm buffers ${buffers} -> ${counts.filter((_, i) => i % 2 === 1).join(',')}`);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(backend.numDataIds()).toBe(buffers);
    tf.dispose([x, w, dw]);
  });
});
