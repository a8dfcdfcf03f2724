/**
 * The replaced Tile and BatchMatMul wasm kernels against the cpu backend, including the direct
 * kernels' leak behaviour.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, tf } from '../src/index.js';
import { compare, randomValues, report, runKernelOn, setupBackends } from './helpers.js';

beforeAll(setupBackends);

const TILE_CASES = [
  { shape: [5], reps: [3] },
  { shape: [1, 1, 1, 16], reps: [4, 8, 8, 1] },
  { shape: [2, 3], reps: [2, 3] },
  { shape: [3, 1, 4], reps: [1, 5, 2] },
  { shape: [2, 3, 4, 5], reps: [2, 1, 3, 2] },
  { shape: [4, 7], reps: [1, 1] },
  { shape: [1, 3, 1, 2, 2], reps: [2, 2, 3, 1, 2] },
];

describe('Tile on wasm', () => {
  it.each(TILE_CASES.map((c) => ({ ...c, name: `${c.shape.join('x')} reps ${c.reps.join(',')}` })))('float32 $name', async (c) => {
    const x = { shape: c.shape, values: randomValues(new Rng(c.shape.length), c.shape) };
    const got = await runKernelOn('wasm', 'Tile', { x }, { reps: c.reps });
    const want = await runKernelOn('cpu', 'Tile', { x }, { reps: c.reps });
    expect(got.shape).toEqual(want.shape);
    const cmp = compare(got.values, want.values);
    report(`Tile ${c.name}`, cmp);
    expect(cmp.maxAbs).toBe(0);
  });

  it('int32 and bool', async () => {
    await tf.setBackend('wasm');
    const i = tf.tile(tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3], 'int32'), [2, 2]);
    expect(i.dtype).toBe('int32');
    expect(i.arraySync()).toEqual([[1, 2, 3, 1, 2, 3], [4, 5, 6, 4, 5, 6], [1, 2, 3, 1, 2, 3], [4, 5, 6, 4, 5, 6]]);
    const b = tf.tile(tf.tensor1d([true, false], 'bool'), [3]);
    expect(b.arraySync()).toEqual([1, 0, 1, 0, 1, 0]);
    tf.dispose([i, b]);
  });
});

const MATMUL_CASES = [
  { a: [7, 5], b: [5, 3], ta: false, tb: false },
  { a: [5, 7], b: [5, 3], ta: true, tb: false },
  { a: [7, 5], b: [3, 5], ta: false, tb: true },
  { a: [5, 7], b: [3, 5], ta: true, tb: true },
  { a: [4, 6, 9], b: [4, 6, 8], ta: true, tb: false },
  { a: [3, 10, 6], b: [3, 7, 6], ta: false, tb: true },
  { a: [2, 9, 4], b: [1, 5, 9], ta: true, tb: true },
  { a: [64, 128], b: [64, 10], ta: true, tb: false },
];

describe('BatchMatMul on wasm', () => {
  it.each(MATMUL_CASES.map((c) => ({ ...c, name: `${c.a.join('x')}${c.ta ? 'ᵀ' : ''} @ ${c.b.join('x')}${c.tb ? 'ᵀ' : ''}` })))('$name', async (c) => {
    const rng = new Rng(c.a[0]! + 100 * c.b[1]!);
    const a = { shape: c.a, values: randomValues(rng, c.a) };
    const b = { shape: c.b, values: randomValues(rng, c.b) };
    const attrs = { transposeA: c.ta, transposeB: c.tb };
    const got = await runKernelOn('wasm', 'BatchMatMul', { a, b }, attrs);
    const want = await runKernelOn('cpu', 'BatchMatMul', { a, b }, attrs);
    expect(got.shape).toEqual(want.shape);
    const cmp = compare(got.values, want.values);
    report(`BatchMatMul ${c.name}`, cmp);
    expect(cmp.rel).toBeLessThan(1e-4);
  });
});

describe('direct kernel calls', () => {
  it('keep tensor and buffer counts flat', async () => {
    await tf.setBackend('wasm');
    const backend = tf.backend();
    const rng = new Rng(9);
    const x = tf.tensor4d(randomValues(rng, [3, 9, 9, 4]), [3, 9, 9, 4]);
    const dy = tf.tensor4d(randomValues(rng, [3, 5, 5, 8]), [3, 5, 5, 8]);
    const f = tf.tensor4d(randomValues(rng, [3, 3, 4, 2]), [3, 3, 4, 2]);
    const f2 = tf.tensor4d(randomValues(rng, [3, 3, 4, 8]), [3, 3, 4, 8]);
    const run = () =>
      tf.tidy(() => {
        tf.conv2dTranspose(dy, f2, [3, 9, 9, 4], 2, 'same');
        tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: [2, 2], pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 4, 8] });
        tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { strides: [2, 2], pad: 'same', dilations: [1, 1], filterShape: [3, 3, 4, 2] });
        tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter: f }, { strides: [2, 2], pad: 'same', dilations: [1, 1], inputShape: [3, 9, 9, 4] });
        tf.matMul(tf.reshape(x, [27, 36]), tf.reshape(x, [27, 36]), true, false);
        tf.tile(x, [1, 2, 1, 3]);
      });
    run();
    const tensors = tf.memory().numTensors;
    const buffers = backend.numDataIds();
    for (let i = 0; i < 3; i++) run();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(backend.numDataIds()).toBe(buffers);
    tf.dispose([x, dy, f, f2]);
  });
});

describe('Identity and same-dtype Cast on wasm share memory', () => {
  it('a clone outlives its source and frees the memory with the last reference', async () => {
    await tf.setBackend('wasm');
    const before = tf.memory();
    const buffers = () => tf.engine().backend.numDataIds();
    const x = tf.tensor2d([1.5, -2, 3, 4], [2, 2]);
    const start = buffers();
    const c = tf.clone(x);
    const same = tf.cast(x, 'float32');
    expect(buffers()).toBe(start); // one buffer for three tensors
    x.dispose();
    expect(c.arraySync()).toEqual([[1.5, -2], [3, 4]]);
    c.dispose();
    expect(same.arraySync()).toEqual([[1.5, -2], [3, 4]]);
    same.dispose();
    expect(buffers()).toBe(start - 1);
    expect(tf.memory().numTensors).toBe(before.numTensors);
  });

  it('casts that change the dtype still convert', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor1d([1.7, -2.2, 0, 0.5]);
    const i = tf.cast(x, 'int32');
    const b = tf.cast(x, 'bool');
    const f = tf.cast(i, 'float32');
    expect([i.dtype, b.dtype, f.dtype]).toEqual(['int32', 'bool', 'float32']);
    expect(Array.from(i.dataSync())).toEqual([1, -2, 0, 0]);
    expect(Array.from(b.dataSync())).toEqual([1, 1, 0, 1]); // the stock kernel gave [1, 254, 0, 0]
    expect(Array.from(f.dataSync())).toEqual([1, -2, 0, 0]);
    tf.dispose([x, i, b, f]);
  });

  it('gradients through saved tensors are unchanged (relu, whose gradient casts)', async () => {
    const grad = async (backend: 'wasm' | 'cpu') => {
      await tf.setBackend(backend);
      return tf.tidy(() => Array.from(tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.relu(v), v)))(tf.tensor1d([-1, 0.5, 2, -3])).dataSync()));
    };
    expect(await grad('wasm')).toEqual(await grad('cpu'));
  });
});
