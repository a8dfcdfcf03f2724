/**
 * Throughput sanity check (not a test) for the extra wasm kernels at resnet8-like shapes, batch 64.
 * Times each kernel with kdbench's implementation ("new") and, where the wasm backend has one, its
 * stock implementation ("old"). Run: npx tsx scripts/kernel-bench.ts [reps]
 */
import { initEngine, registerWasmKernels, Rng, tf, unregisterWasmKernels } from '../src/index.js';

const reps = Number(process.argv[2] ?? 5);
const rng = new Rng(1);

function rand(shape: number[]): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(size);
  for (let i = 0; i < size; i++) v[i] = rng.normal();
  return tf.tensor(v, shape);
}

/** Median milliseconds of `n` timed calls after one warm-up call. */
function time(run: () => tf.Tensor, n: number): number {
  tf.dispose(run());
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const out = run();
    ms.push(performance.now() - t0);
    out.dispose();
  }
  ms.sort((a, b) => a - b);
  return ms[Math.floor(ms.length / 2)]!;
}

type Row = { kernel: string; shape: string; oldMs?: number; newMs: number };
const rows: Row[] = [];

function bench(kernel: string, shape: string, run: () => tf.Tensor, hasStock: boolean): void {
  registerWasmKernels();
  const newMs = time(run, reps);
  let oldMs: number | undefined;
  if (hasStock) {
    unregisterWasmKernels();
    oldMs = time(run, Math.min(reps, 3));
    registerWasmKernels();
  }
  const row: Row = { kernel, shape, newMs };
  if (oldMs !== undefined) row.oldMs = oldMs;
  rows.push(row);
  const speed = oldMs === undefined ? '' : `  old ${oldMs.toFixed(1)} ms  (${(oldMs / newMs).toFixed(1)}x)`;
  console.log(`${kernel.padEnd(36)} ${shape.padEnd(34)} new ${newMs.toFixed(1)} ms${speed}`);
}

const info = await initEngine({ backend: 'wasm' });
console.log(`${info.reason} reps=${reps}`);

const convs = [
  { x: [64, 32, 32, 3], f: [3, 3, 3, 16], s: 1, input: false },
  { x: [64, 32, 32, 16], f: [3, 3, 16, 16], s: 1, input: true },
  { x: [64, 32, 32, 16], f: [3, 3, 16, 32], s: 2, input: true },
  { x: [64, 16, 16, 32], f: [3, 3, 32, 32], s: 1, input: true },
  { x: [64, 16, 16, 32], f: [3, 3, 32, 64], s: 2, input: true },
  { x: [64, 8, 8, 64], f: [3, 3, 64, 64], s: 1, input: true },
  { x: [64, 32, 32, 16], f: [1, 1, 16, 32], s: 2, input: true },
];
for (const c of convs) {
  const x = rand(c.x);
  const info2 = tf.backend_util.computeConv2DInfo(c.x as [number, number, number, number], c.f as [number, number, number, number], c.s, 1, 'same');
  const dy = rand(info2.outShape);
  const filter = rand(c.f);
  const shape = `${c.x.join('x')} k${c.f[0]} ${c.f[2]}->${c.f[3]} s${c.s}`;
  const attrs = { strides: [c.s, c.s], pad: 'same', dataFormat: 'NHWC' };
  bench('Conv2DBackpropFilter', shape, () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: c.f }) as tf.Tensor, false);
  if (c.input) {
    bench('Conv2DBackpropInput', shape, () => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter }, { ...attrs, inputShape: c.x }) as tf.Tensor, true);
  }
  tf.dispose([x, dy, filter]);
}

const depthwise = [
  { x: [64, 32, 32, 16], f: [3, 3, 16, 1], s: 1 },
  { x: [64, 32, 32, 32], f: [3, 3, 32, 1], s: 2 },
  { x: [64, 16, 16, 32], f: [3, 3, 32, 2], s: 1 },
];
for (const c of depthwise) {
  const x = rand(c.x);
  const info2 = tf.backend_util.computeConv2DInfo(c.x as [number, number, number, number], c.f as [number, number, number, number], c.s, 1, 'same', undefined, true);
  const dy = rand(info2.outShape);
  const filter = rand(c.f);
  const shape = `${c.x.join('x')} k${c.f[0]} m${c.f[3]} s${c.s}`;
  const attrs = { strides: [c.s, c.s], pad: 'same', dilations: [1, 1] };
  bench('DepthwiseConv2dNativeBackpropFilter', shape, () => tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { ...attrs, filterShape: c.f }) as tf.Tensor, false);
  bench('DepthwiseConv2dNativeBackpropInput', shape, () => tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter }, { ...attrs, inputShape: c.x }) as tf.Tensor, false);
  tf.dispose([x, dy, filter]);
}

{
  const g = rand([1, 1, 1, 16]);
  bench('Tile', '1x1x1x16 reps 64,32,32,1', () => tf.tile(g, [64, 32, 32, 1]), true);
  const h = rand([64, 1, 1, 64]);
  bench('Tile', '64x1x1x64 reps 1,8,8,1', () => tf.tile(h, [1, 8, 8, 1]), true);
  tf.dispose([g, h]);
}
{
  const a = rand([64, 2048]);
  const dy = rand([64, 10]);
  const w = rand([2048, 10]);
  bench('BatchMatMul', '[64,2048]^T @ [64,10]', () => tf.matMul(a, dy, true, false), true);
  bench('BatchMatMul', '[64,10] @ [2048,10]^T', () => tf.matMul(dy, w, false, true), true);
  tf.dispose([a, dy, w]);
}
console.log(`numTensors at end: ${tf.memory().numTensors}`);
