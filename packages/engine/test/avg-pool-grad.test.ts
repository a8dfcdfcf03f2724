/**
 * kdbench's AvgPoolGrad on wasm (native addon, and its JavaScript fallback) gives the stock
 * kernel's bits where it takes over (windows that tile the input, power-of-two window sizes) and
 * hands every other geometry to the stock kernel; both against the cpu backend.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nativeStatus, registerWasmKernels, Rng, setNativeEnabled, tf, unregisterWasmKernels } from '../src/index.js';
import { compare, randomValues, runKernelOn, setupBackends } from './helpers.js';

beforeAll(setupBackends);
afterAll(() => setNativeEnabled(true));

const CASES = [
  // DenseNet's transitions, and odd sizes whose last row and column no window covers
  { x: [2, 8, 8, 3], filterSize: 2, strides: 2, pad: 'valid' as const, ours: true },
  { x: [3, 9, 7, 5], filterSize: 2, strides: 2, pad: 'valid' as const, ours: true },
  // large enough for the native kernel to split the images over threads
  { x: [6, 16, 16, 64], filterSize: 2, strides: 2, pad: 'valid' as const, ours: true },
  { x: [1, 12, 12, 2], filterSize: [2, 4], strides: [3, 4], pad: 'valid' as const, ours: true },
  // the stock kernel's: overlapping windows, padding, a 3x3 window (not a power of two)
  { x: [2, 7, 9, 4], filterSize: 3, strides: 2, pad: 'same' as const, ours: false },
  { x: [2, 6, 6, 3], filterSize: 2, strides: 1, pad: 'valid' as const, ours: false },
  { x: [2, 9, 9, 3], filterSize: 3, strides: 3, pad: 'valid' as const, ours: false },
  // 'same' on an odd size: the last window hangs over the bottom and right edges
  { x: [2, 7, 7, 3], filterSize: 2, strides: 2, pad: 'same' as const, ours: false },
];

async function grads(c: (typeof CASES)[number], seed: number) {
  const rng = new Rng(seed);
  const values = randomValues(rng, c.x);
  const attrs = { filterSize: c.filterSize, strides: c.strides, pad: c.pad, dimRoundingMode: undefined };
  await tf.setBackend('cpu');
  const outShape = tf.tidy(() => tf.avgPool(tf.tensor4d(values, c.x as [number, number, number, number]), c.filterSize as number, c.strides as number, c.pad).shape);
  const dy = { shape: outShape, values: randomValues(rng, outShape) };
  const input = { shape: c.x, values };
  const ours = await runKernelOn('wasm', 'AvgPoolGrad', { dy, input }, attrs);
  unregisterWasmKernels();
  let stock;
  try {
    stock = await runKernelOn('wasm', 'AvgPoolGrad', { dy, input }, attrs);
  } finally {
    registerWasmKernels();
  }
  const cpu = await runKernelOn('cpu', 'AvgPoolGrad', { dy, input }, attrs);
  return { ours, stock, cpu };
}

describe.each([
  { path: 'native', on: true },
  { path: 'JavaScript', on: false },
])('AvgPoolGrad on wasm, $path kernel', ({ on }) => {
  beforeAll(() => setNativeEnabled(on));
  const status = nativeStatus();
  it.skipIf(!on || !status.loaded)('the built addon has the kernel (a stale build would leave it to the JavaScript loop)', () => {
    expect(status.loaded && typeof status.addon.avgPoolGrad).toBe('function');
  });
  it.skipIf(!on || !status.loaded)('the native kernel refuses overlapping windows and operands outside the heap', () => {
    const grad = status.loaded ? status.addon.avgPoolGrad! : () => undefined;
    const heap = new ArrayBuffer(4 * 64);
    // dy at 0 (1 x 2 x 2 x 1), dx at 4 (1 x 4 x 4 x 1): fits
    expect(() => grad(heap, Int32Array.of(0, 4, 1, 4, 4, 1, 2, 2, 2, 2, 2, 2), 0.25)).not.toThrow();
    expect(() => grad(heap, Int32Array.of(0, 4, 1, 4, 4, 1, 3, 3, 2, 2, 1, 1), 0.25)).toThrow(/windows must tile the input/);
    expect(() => grad(heap, Int32Array.of(0, 60, 1, 4, 4, 1, 2, 2, 2, 2, 2, 2), 0.25)).toThrow(/outside the heap/);
    expect(() => grad(heap, Int32Array.of(0, 4, 1, 4, 4), 0.25)).toThrow(/expects \(heap, Int32Array of 12, scale\)/);
  });
  it.skipIf(on && !status.loaded).each(CASES.map((c, i) => ({ ...c, seed: i, name: `${c.x.join('x')} f${c.filterSize} s${c.strides} ${c.pad}${c.ours ? '' : ' (stock kernel)'}` })))('$name', async (c) => {
    const { ours, stock, cpu } = await grads(c, c.seed);
    expect(ours.shape).toEqual(c.x);
    expect(Array.from(ours.values)).toEqual(Array.from(stock.values));
    expect(compare(ours.values, cpu.values).maxAbs).toBeLessThan(1e-6);
  });
});
