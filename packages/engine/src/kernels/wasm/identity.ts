/**
 * Identity, and Cast to the same dtype, for the wasm backend without a copy. tfjs calls Identity
 * to keep every tensor a gradient needs (engine.clone) and Cast(float32 -> float32) in the ReLU
 * gradient; the stock wasm kernels copy the whole tensor each time (154 copies in a resnet20 step).
 * Here the output shares the input's memory and the backend's reference count keeps it alive, as
 * the cpu backend and the wasm Reshape kernel do: tensors are immutable, and no kernel writes into
 * its inputs. A cast to bool is x != 0 (the stock kernel wraps: -2 became 254, 0.5 became 0);
 * strings and other dtype changes keep the stock kernels.
 */
import { callWasm, stockKernels, type KernelArgs, type KernelConfig, type TensorInfo } from './util.js';

function share(backend: KernelArgs['backend'], x: TensorInfo): TensorInfo {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

export function identity({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { x } = inputs as { x: TensorInfo };
  return x.dtype === 'string' ? callWasm('Identity', backend, inputs, attrs) : share(backend, x);
}

export function cast({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { x } = inputs as { x: TensorInfo };
  if (x.dtype === 'string') return callWasm('Cast', backend, inputs, attrs);
  if (x.dtype === attrs.dtype) return share(backend, x);
  if (attrs.dtype !== 'bool') return callWasm('Cast', backend, inputs, attrs);
  const out = backend.makeOutput(x.shape, 'bool');
  const from = backend.typedArrayFromHeap(x); // after makeOutput, which may grow the heap
  const to = backend.typedArrayFromHeap(out);
  for (let i = 0; i < from.length; i++) to[i] = from[i] !== 0 ? 1 : 0;
  return out;
}

export const identityConfig: KernelConfig = {
  kernelName: 'Identity',
  backendName: 'wasm',
  setupFunc: (backend) => stockKernels.get('Identity')?.setupFunc?.(backend),
  kernelFunc: identity as unknown as KernelConfig['kernelFunc'],
};

export const castConfig: KernelConfig = {
  kernelName: 'Cast',
  backendName: 'wasm',
  setupFunc: (backend) => stockKernels.get('Cast')?.setupFunc?.(backend),
  kernelFunc: cast as unknown as KernelConfig['kernelFunc'],
};
