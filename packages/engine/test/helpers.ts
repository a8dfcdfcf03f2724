/**
 * Test helpers: run the same kernel on the wasm and cpu backends with identical inputs, and
 * measure how far apart the results are.
 */
import { initEngine, Rng, tf } from '../src/index.js';

export type Case = Record<string, unknown> & { name: string };

/** Initialises the wasm backend (with our kernels) and makes sure cpu is usable too. */
export async function setupBackends(): Promise<void> {
  await initEngine({ backend: 'wasm' });
}

export function randomValues(rng: Rng, shape: number[]): Float32Array {
  const size = shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(size);
  for (let i = 0; i < size; i++) v[i] = rng.normal();
  return v;
}

/** Runs a kernel on `backend` with float32 inputs given as plain arrays; returns shape and values. */
export async function runKernelOn(
  backend: 'wasm' | 'cpu', kernel: string, inputs: Record<string, { shape: number[]; values: Float32Array }>,
  attrs: Record<string, unknown>,
): Promise<{ shape: number[]; values: Float32Array }> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const ins: Record<string, tf.Tensor> = {};
    for (const [k, v] of Object.entries(inputs)) ins[k] = tf.tensor(v.values, v.shape, 'float32');
    const out = tf.engine().runKernel(kernel, ins, attrs as tf.NamedAttrMap) as tf.Tensor;
    return { shape: out.shape, values: out.dataSync() as Float32Array };
  });
}

export type Comparison = { maxAbs: number; rel: number };

export function compare(got: Float32Array, want: Float32Array): Comparison {
  if (got.length !== want.length) throw new Error(`length ${got.length} != ${want.length}`);
  let maxAbs = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(got[i]! - want[i]!));
    scale = Math.max(scale, Math.abs(want[i]!));
  }
  return { maxAbs, rel: maxAbs / Math.max(scale, 1e-12) };
}

export function report(label: string, c: Comparison): void {
  console.log(`${label.padEnd(58)} maxAbs=${c.maxAbs.toExponential(2)} rel=${c.rel.toExponential(2)}`);
}

/** A filter with (d-1) zeros between taps: a dilated conv equals an undilated conv with it. */
export function dilateFilter(values: Float32Array, shape: number[], d: number): { shape: number[]; values: Float32Array } {
  const [kh, kw, a, b] = shape as [number, number, number, number];
  const eh = (kh - 1) * d + 1;
  const ew = (kw - 1) * d + 1;
  const out = new Float32Array(eh * ew * a * b);
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++)
      for (let c = 0; c < a * b; c++) out[((i * d) * ew + j * d) * a * b + c] = values[(i * kw + j) * a * b + c]!;
  return { shape: [eh, ew, a, b], values: out };
}

/** Picks taps 0, d, 2d... of an expanded filter gradient: the inverse of dilateFilter. */
export function undilateFilter(values: Float32Array, shape: number[], d: number): Float32Array {
  const [eh, ew, a, b] = shape as [number, number, number, number];
  const kh = (eh - 1) / d + 1;
  const kw = (ew - 1) / d + 1;
  const out = new Float32Array(kh * kw * a * b);
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++)
      for (let c = 0; c < a * b; c++) out[(i * kw + j) * a * b + c] = values[((i * d) * ew + j * d) * a * b + c]!;
  return out;
}
