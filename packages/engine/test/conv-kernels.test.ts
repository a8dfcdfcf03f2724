/**
 * The wasm convolution kernels, dense and depthwise (forward and both gradients), against the cpu
 * backend over a table of shapes, strides, paddings and dilations, once with the native addon and
 * once with the WebAssembly implementations (the native depthwise kernels take channel
 * multiplier 1; other multipliers fall back). Dilated gradient cases compare with the cpu kernel run on the
 * equivalent zero-inserted ("expanded") filter, since cpu's gradient kernels ignore dilations.
 * Set KDBENCH_EXPECT_NATIVE=1 (CI does) to fail when the addon was not built.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nativeStatus, Rng, setNativeEnabled, tf } from '../src/index.js';
import { compare, dilateFilter, randomValues, report, runKernelOn, setupBackends, undilateFilter } from './helpers.js';

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
type ConvCase = { n: number; h: number; w: number; ci: number; co: number; kh: number; kw: number; s: [number, number]; d: number; pad: Pad };

const ex = (t: number, b: number, l: number, r: number): Pad => [[0, 0], [t, b], [l, r], [0, 0]];

/** Conv cases; for the depthwise kernels `co` is the channel multiplier m (output channels ci*m). */
const CASES: ConvCase[] = [
  { n: 1, h: 5, w: 5, ci: 1, co: 1, kh: 3, kw: 3, s: [1, 1], d: 1, pad: 'same' },
  { n: 3, h: 8, w: 8, ci: 3, co: 4, kh: 3, kw: 3, s: [1, 1], d: 1, pad: 'valid' },
  { n: 3, h: 8, w: 8, ci: 4, co: 2, kh: 3, kw: 3, s: [2, 2], d: 1, pad: 'same' },
  { n: 1, h: 9, w: 7, ci: 5, co: 3, kh: 3, kw: 3, s: [2, 2], d: 1, pad: 'same' },
  { n: 3, h: 9, w: 9, ci: 2, co: 6, kh: 3, kw: 3, s: [2, 2], d: 1, pad: 'valid' },
  { n: 1, h: 8, w: 8, ci: 3, co: 2, kh: 3, kw: 3, s: [2, 2], d: 1, pad: 'valid' },
  { n: 3, h: 10, w: 10, ci: 3, co: 3, kh: 2, kw: 2, s: [2, 2], d: 1, pad: 'same' },
  { n: 1, h: 7, w: 6, ci: 2, co: 2, kh: 1, kw: 1, s: [2, 2], d: 1, pad: 'valid' },
  { n: 3, h: 7, w: 9, ci: 3, co: 2, kh: 3, kw: 2, s: [2, 1], d: 1, pad: 'same' },
  { n: 1, h: 8, w: 7, ci: 4, co: 3, kh: 5, kw: 3, s: [1, 2], d: 1, pad: 'same' },
  { n: 3, h: 8, w: 8, ci: 3, co: 2, kh: 3, kw: 3, s: [1, 1], d: 2, pad: 'same' },
  { n: 1, h: 9, w: 9, ci: 2, co: 3, kh: 3, kw: 3, s: [1, 1], d: 2, pad: 'valid' },
  { n: 3, h: 8, w: 8, ci: 2, co: 2, kh: 3, kw: 3, s: [1, 1], d: 1, pad: ex(1, 2, 0, 1) },
  { n: 1, h: 9, w: 8, ci: 3, co: 2, kh: 3, kw: 3, s: [2, 2], d: 1, pad: ex(2, 0, 1, 1) },
  { n: 3, h: 6, w: 6, ci: 2, co: 2, kh: 3, kw: 3, s: [2, 2], d: 1, pad: ex(3, 3, 4, 0) },
  { n: 3, h: 8, w: 8, ci: 6, co: 1, kh: 3, kw: 3, s: [2, 2], d: 1, pad: 'same' },
  { n: 1, h: 9, w: 9, ci: 4, co: 1, kh: 3, kw: 3, s: [1, 1], d: 2, pad: 'same' },
  { n: 3, h: 16, w: 16, ci: 16, co: 16, kh: 3, kw: 3, s: [1, 1], d: 1, pad: 'same' },
  { n: 3, h: 16, w: 16, ci: 16, co: 32, kh: 3, kw: 3, s: [2, 2], d: 1, pad: 'same' },
  // large enough for the native kernels to split the images over threads
  { n: 6, h: 32, w: 32, ci: 8, co: 16, kh: 3, kw: 3, s: [1, 1], d: 1, pad: 'same' },
  { n: 5, h: 16, w: 16, ci: 16, co: 16, kh: 1, kw: 1, s: [1, 1], d: 1, pad: 'valid' },
  // output channels in multiples of 8 and short patch rows: the native direct (register-tiled) kernels
  { n: 3, h: 12, w: 12, ci: 3, co: 16, kh: 3, kw: 3, s: [1, 1], d: 1, pad: 'same' },
  { n: 2, h: 13, w: 11, ci: 5, co: 8, kh: 3, kw: 3, s: [2, 2], d: 1, pad: 'same' },
  { n: 2, h: 9, w: 10, ci: 7, co: 24, kh: 3, kw: 2, s: [1, 2], d: 1, pad: 'valid' },
  { n: 3, h: 8, w: 8, ci: 16, co: 16, kh: 3, kw: 3, s: [2, 2], d: 1, pad: ex(0, 2, 1, 1) },
  { n: 2, h: 10, w: 7, ci: 8, co: 40, kh: 5, kw: 3, s: [1, 1], d: 1, pad: ex(2, 2, 1, 1) },
  { n: 5, h: 32, w: 32, ci: 16, co: 16, kh: 3, kw: 3, s: [1, 1], d: 1, pad: 'same' },
  { n: 2, h: 8, w: 8, ci: 16, co: 8, kh: 3, kw: 3, s: [1, 1], d: 2, pad: 'same' },
  // channel multiplier 1 (what the native depthwise kernels take): ShuffleNet/MobileNet shapes
  { n: 4, h: 16, w: 16, ci: 58, co: 1, kh: 3, kw: 3, s: [1, 1], d: 1, pad: 'same' },
  { n: 5, h: 16, w: 16, ci: 29, co: 1, kh: 3, kw: 3, s: [2, 2], d: 1, pad: ex(1, 1, 1, 1) },
  { n: 2, h: 7, w: 9, ci: 3, co: 1, kh: 3, kw: 2, s: [2, 1], d: 1, pad: 'valid' },
];

const label = (kind: string, c: ConvCase) =>
  `${kind} n${c.n} ${c.h}x${c.w} c${c.ci}->${c.co} k${c.kh}x${c.kw} s${c.s.join(',')} d${c.d} ${typeof c.pad === 'string' ? c.pad : JSON.stringify(c.pad.slice(1, 3))}`;

function outShape(c: ConvCase, depthwise: boolean): number[] {
  const info = tf.backend_util.computeConv2DInfo(
    [c.n, c.h, c.w, c.ci], [c.kh, c.kw, c.ci, c.co], c.s, c.d, c.pad, undefined, depthwise);
  return info.outShape;
}

const results: { name: string; maxAbs: number; rel: number }[] = [];

beforeAll(setupBackends);
afterAll(() => setNativeEnabled(true));

const native = nativeStatus();
console.log(`native convolution kernels: ${native.detail}`);

it('the native addon is built when CI expects it', () => {
  if (process.env.KDBENCH_EXPECT_NATIVE === '1') expect(native.detail).toMatch(/^native convolutions/);
  expect(native.loaded).toBe(native.detail.startsWith('native convolutions'));
});

it.skipIf(!native.loaded)('the addon refuses operands outside the heap and malformed parameters', () => {
  if (!native.loaded) return;
  const heap = new ArrayBuffer(64);
  const geometry = [1, 2, 2, 1, 1, 1, 1, 2, 2, 1, 1, 1, 1, 0, 0];
  expect(() => native.addon.conv2d(heap, Int32Array.of(0, 4, 8, ...geometry))).not.toThrow();
  expect(() => native.addon.conv2d(heap, Int32Array.of(0, 4, 14, ...geometry))).toThrow(/outside the heap/);
  expect(() => native.addon.conv2d(heap, Int32Array.of(0, 4, 8))).toThrow(/Int32Array of 18/);
  expect(() => native.addon.batchNormForward(heap, Int32Array.of(0, 4, 5, -1, 4, 6, 7, 8, 4, 1), 0, false)).toThrow(/eps > 0/);
  expect(() => native.addon.batchNormForward(heap, Int32Array.of(0, 4, 5, -2, 4, 6, 7, 8, 4, 1), 1e-5, false)).toThrow(/inside the heap/);
  expect(() => native.addon.batchNormForward(heap, Int32Array.of(0, -1, 5, -1, 4, 6, 7, 8, 4, 1), 1e-5, false)).toThrow(/inside the heap/); // gamma is not optional
  expect(() => native.addon.batchNormBackward(heap, Int32Array.of(0, 0, -1, 0, 0, 0, 0, 0, 0, -1, 64, 1))).toThrow(/inside the heap/);
});

const PATHS = [
  { path: 'native', on: true, kind: 'Conv2D', depthwise: false },
  { path: 'WebAssembly', on: false, kind: 'Conv2D', depthwise: false },
  { path: 'native', on: true, kind: 'DepthwiseConv2dNative', depthwise: true },
  { path: 'WebAssembly', on: false, kind: 'DepthwiseConv2dNative', depthwise: true },
];

describe.each(PATHS)('$kind on wasm, $path kernels', ({ on, kind, depthwise }) => {
  const skip = on && !native.loaded;
  beforeAll(() => setNativeEnabled(on));

  it.skipIf(skip).each(CASES.map((c) => ({ ...c, name: label('', c) })))('forward$name', async (c) => {
    const rng = new Rng(c.h * 31 + c.ci * 11 + c.co);
    const fShape = [c.kh, c.kw, c.ci, c.co];
    const x = { shape: [c.n, c.h, c.w, c.ci], values: randomValues(rng, [c.n, c.h, c.w, c.ci]) };
    const filter = { shape: fShape, values: randomValues(rng, fShape) };
    const attrs = { strides: c.s, pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: undefined, dilations: [c.d, c.d] };
    const got = await runKernelOn('wasm', kind, { x, filter }, attrs);
    const ref = await runKernelOn('cpu', kind, { x, filter: dilateFilter(filter.values, fShape, c.d) }, { ...attrs, dilations: [1, 1] });
    expect(got.shape).toEqual(outShape(c, depthwise));
    const cmp = compare(got.values, ref.values);
    report(`${kind} ${c.name}`, cmp);
    results.push({ name: `${kind} ${c.name}`, ...cmp });
    expect(cmp.rel).toBeLessThan(1e-4);
  });

  it.skipIf(skip).each(CASES.map((c) => ({ ...c, name: label('', c) })))('filter gradient$name', async (c) => {
    const rng = new Rng(c.h * 131 + c.ci * 7 + c.co);
    const fShape = [c.kh, c.kw, c.ci, c.co];
    const x = { shape: [c.n, c.h, c.w, c.ci], values: randomValues(rng, [c.n, c.h, c.w, c.ci]) };
    const dyShape = outShape(c, depthwise);
    const dy = { shape: dyShape, values: randomValues(rng, dyShape) };
    const name = `${kind}BackpropFilter`;
    const attrs = { strides: c.s, pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: undefined, dilations: [c.d, c.d] };
    const got = await runKernelOn('wasm', name, { x, dy }, { ...attrs, filterShape: fShape });
    const expShape = dilateFilter(new Float32Array(fShape.reduce((a, b) => a * b)), fShape, c.d).shape;
    const ref = await runKernelOn('cpu', name, { x, dy }, { ...attrs, dilations: [1, 1], filterShape: expShape });
    expect(got.shape).toEqual(fShape);
    const cmp = compare(got.values, c.d === 1 ? ref.values : undilateFilter(ref.values, expShape, c.d));
    report(`${name} ${c.name}`, cmp);
    results.push({ name: `${name} ${c.name}`, ...cmp });
    expect(cmp.rel).toBeLessThan(1e-4);
  });

  it.skipIf(skip).each(CASES.map((c) => ({ ...c, name: label('', c) })))('input gradient$name', async (c) => {
    const rng = new Rng(c.w * 17 + c.ci * 3 + c.co);
    const fShape = [c.kh, c.kw, c.ci, c.co];
    const filter = { shape: fShape, values: randomValues(rng, fShape) };
    const dyShape = outShape(c, depthwise);
    const dy = { shape: dyShape, values: randomValues(rng, dyShape) };
    const name = `${kind}BackpropInput`;
    const inputShape = [c.n, c.h, c.w, c.ci];
    const attrs = { strides: c.s, pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: undefined, inputShape };
    const got = await runKernelOn('wasm', name, { dy, filter }, { ...attrs, dilations: [c.d, c.d] });
    const ref = await runKernelOn('cpu', name, { dy, filter: dilateFilter(filter.values, fShape, c.d) }, { ...attrs, dilations: [1, 1] });
    expect(got.shape).toEqual(inputShape);
    const cmp = compare(got.values, ref.values);
    report(`${name} ${c.name}`, cmp);
    results.push({ name: `${name} ${c.name}`, ...cmp });
    expect(cmp.rel).toBeLessThan(1e-4);
  });
});

describe('summary', () => {
  it('prints the worst case', () => {
    const worst = results.reduce((a, b) => (b.rel > a.rel ? b : a), { name: 'none', maxAbs: 0, rel: 0 });
    const maxAbs = Math.max(...results.map((r) => r.maxAbs));
    console.log(`conv kernel cases: ${results.length}; max abs error ${maxAbs.toExponential(2)}; worst relative ${worst.rel.toExponential(2)} (${worst.name})`);
    expect(results.length).toBe(CASES.length * (native.loaded ? 12 : 6));
  });
});
