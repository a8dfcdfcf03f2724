/**
 * kdbench's MaxPoolGrad on wasm (native addon, and its JavaScript fallback) against the cpu
 * backend, on random inputs and on inputs with ties (the gradient goes to the window's first
 * maximum in row-major order); and the tfjs 4.22 stock kernel's bug it replaces.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nativeStatus, registerWasmKernels, Rng, setNativeEnabled, tf, unregisterWasmKernels } from '../src/index.js';
import { compare, randomValues, runKernelOn, setupBackends } from './helpers.js';

beforeAll(setupBackends);
afterAll(() => setNativeEnabled(true));

const CASES = [
  { x: [2, 8, 8, 3], filterSize: 2, strides: 2, pad: 'valid' as const },
  { x: [1, 7, 9, 4], filterSize: 3, strides: 2, pad: 'same' as const },
  { x: [3, 6, 6, 2], filterSize: 3, strides: 1, pad: 'same' as const },
  { x: [2, 9, 7, 5], filterSize: [3, 2], strides: [2, 1], pad: 1 },
  // large enough for the native kernel to split the images over threads
  { x: [6, 16, 16, 64], filterSize: 2, strides: 2, pad: 'valid' as const },
];

function roundedTies(rng: Rng, shape: number[]): Float32Array {
  // few distinct values, so that windows hold several equal maxima
  return randomValues(rng, shape).map((v) => Math.round(v));
}

describe.each([
  { path: 'native', on: true },
  { path: 'JavaScript', on: false },
])('MaxPoolGrad on wasm, $path kernel', ({ on }) => {
  beforeAll(() => setNativeEnabled(on));
  const skip = on && !nativeStatus().loaded;

  it.skipIf(skip).each(CASES.flatMap((c, i) => [
    { ...c, ties: false, name: `${c.x.join('x')} f${c.filterSize} s${c.strides} ${c.pad}`, seed: i },
    { ...c, ties: true, name: `${c.x.join('x')} f${c.filterSize} s${c.strides} ${c.pad}, ties`, seed: 10 + i },
  ]))('$name', async (c) => {
    const rng = new Rng(c.seed);
    const values = c.ties ? roundedTies(rng, c.x) : randomValues(rng, c.x);
    const attrs = { filterSize: c.filterSize, strides: c.strides, pad: c.pad, dimRoundingMode: undefined };
    await tf.setBackend('cpu');
    const outShape = tf.tidy(() => tf.maxPool(tf.tensor4d(values, c.x as [number, number, number, number]), c.filterSize as number, c.strides as number, c.pad).shape);
    const dy = { shape: outShape, values: randomValues(rng, outShape) };
    const input = { shape: c.x, values };
    const got = await runKernelOn('wasm', 'MaxPoolGrad', { dy, input, output: dy }, attrs);
    const want = await runKernelOn('cpu', 'MaxPoolGrad', { dy, input, output: dy }, attrs);
    expect(got.shape).toEqual(c.x);
    expect(compare(got.values, want.values).maxAbs).toBeLessThan(1e-5);
  });
});

it('the stock tfjs 4.22 wasm kernel passes no gradient through an all-negative window (why it is replaced)', async () => {
  const dy = { shape: [1, 1, 2, 1], values: new Float32Array([1, 2]) };
  const input = { shape: [1, 2, 4, 1], values: new Float32Array([0.5, 0.1, -0.3, -0.2, 0.4, 0.2, -0.9, -0.8]) };
  const attrs = { filterSize: 2, strides: 2, pad: 'valid', dimRoundingMode: undefined };
  unregisterWasmKernels();
  try {
    const stock = await runKernelOn('wasm', 'MaxPoolGrad', { dy, input, output: dy }, attrs);
    expect(Array.from(stock.values)).toEqual([1, 0, 0, 0, 0, 0, 0, 0]);
  } finally {
    registerWasmKernels();
  }
  const ours = await runKernelOn('wasm', 'MaxPoolGrad', { dy, input, output: dy }, attrs);
  expect(Array.from(ours.values)).toEqual([1, 0, 0, 2, 0, 0, 0, 0]);
});
