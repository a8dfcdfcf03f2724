/**
 * BatchMatMul for the wasm backend. The stock kernel is fast for plain operands but falls back to
 * a scalar loop when either operand is transposed; here a transposed operand is first made
 * contiguous with the Transpose kernel and the stock kernel is called without transposes.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { callWasm, free, stockKernels, transpose, type KernelArgs, type KernelConfig, type TensorInfo } from './util.js';

function swapLastTwo(backend: BackendWasm, t: TensorInfo): TensorInfo {
  const rank = t.shape.length;
  const perm = t.shape.map((_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return transpose(backend, t, perm);
}

export function batchMatMul({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
  const transposeA = Boolean(attrs.transposeA);
  const transposeB = Boolean(attrs.transposeB);
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) {
    return callWasm('BatchMatMul', backend, inputs, attrs);
  }
  if (!transposeA && !transposeB) return callWasm('BatchMatMul', backend, inputs, attrs);
  const a2 = transposeA ? swapLastTwo(backend, a) : a;
  const b2 = transposeB ? swapLastTwo(backend, b) : b;
  const out = callWasm('BatchMatMul', backend, { a: a2, b: b2 }, { ...attrs, transposeA: false, transposeB: false });
  if (transposeA) free(backend, a2);
  if (transposeB) free(backend, b2);
  return out;
}

export const batchMatMulConfig: KernelConfig = {
  kernelName: 'BatchMatMul',
  backendName: 'wasm',
  setupFunc: (backend) => stockKernels.get('BatchMatMul')?.setupFunc?.(backend as BackendWasm),
  kernelFunc: batchMatMul as unknown as KernelConfig['kernelFunc'],
};
