/**
 * One SGD-with-momentum update of many variables as a single native kernel on the wasm heap
 * (native/src/sgd.c), instead of six elementwise kernels per variable:
 *   KdbenchSgdMomentum (w0, g0, v0, w1, g1, v1, ...; lr, momentum, weightDecay) -> [w0', v0', w1', v1', ...]
 * with d = g + w * wd, v' = v * momentum + d, w' = w - v' * lr (the same floats as those kernels).
 * New tensors are returned (tfjs tensors are immutable); the optimiser assigns them. Used by
 * core's Sgd when fusedSgdAvailable() (wasm with the addon); other backends keep the ops.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { tf } from '../../tf.js';
import { nativeAddon } from '../../native/addon.js';
import { floatOffset, wasmHeap, type KernelConfig, type TensorInfo } from './util.js';

export const SGD_MOMENTUM = 'KdbenchSgdMomentum';

function sgdMomentum({ inputs, backend, attrs }: { inputs: Record<string, TensorInfo>; backend: BackendWasm; attrs: Record<string, unknown> }): TensorInfo[] {
  const addon = nativeAddon();
  if (addon === undefined) throw new Error(`engine: ${SGD_MOMENTUM} needs the native addon (check fusedSgdAvailable() first)`);
  const count = attrs.count as number;
  const outs: TensorInfo[] = [];
  const params: number[] = [];
  for (let k = 0; k < count; k++) {
    const [w, g, v] = [inputs[`w${k}`]!, inputs[`g${k}`]!, inputs[`v${k}`]!];
    const wOut = backend.makeOutput(w.shape, 'float32');
    const vOut = backend.makeOutput(w.shape, 'float32');
    outs.push(wOut, vOut);
    params.push(floatOffset(backend, w), floatOffset(backend, g), floatOffset(backend, v), floatOffset(backend, wOut), floatOffset(backend, vOut), tf.util.sizeFromShape(w.shape));
  }
  addon.sgdMomentum(wasmHeap(backend), Int32Array.from(params), attrs.lr as number, attrs.momentum as number, attrs.weightDecay as number);
  return outs;
}

export const sgdMomentumConfig: KernelConfig = {
  kernelName: SGD_MOMENTUM,
  backendName: 'wasm',
  kernelFunc: sgdMomentum as unknown as KernelConfig['kernelFunc'],
};

/** Whether fusedSgdMomentum can run now (wasm backend active, addon loaded and enabled). */
export function fusedSgdAvailable(): boolean {
  return tf.getBackend() === 'wasm' && nativeAddon() !== undefined && tf.getKernel(SGD_MOMENTUM, 'wasm') !== undefined;
}

export interface SgdSlot {
  w: tf.Tensor; g: tf.Tensor; v: tf.Tensor;
}

/** New weights and velocities for every slot (same order); every tensor float32, each g and v shaped like its w. */
export function fusedSgdMomentum(slots: SgdSlot[], lr: number, momentum: number, weightDecay: number): { w: tf.Tensor; v: tf.Tensor }[] {
  if (slots.length === 0) return [];
  const inputs: tf.NamedTensorMap = {};
  slots.forEach(({ w, g, v }, k) => {
    for (const [name, t] of [['g', g], ['v', v]] as const) {
      if (t.dtype !== 'float32' || w.dtype !== 'float32' || !tf.util.arraysEqual(t.shape, w.shape)) {
        throw new Error(`fusedSgdMomentum: slot ${k}: ${name} is ${t.dtype} [${t.shape}], the weight ${w.dtype} [${w.shape}]`);
      }
    }
    inputs[`w${k}`] = w;
    inputs[`g${k}`] = g;
    inputs[`v${k}`] = v;
  });
  const outs = tf.engine().runKernel(SGD_MOMENTUM, inputs, { count: slots.length, lr, momentum, weightDecay }) as tf.Tensor[];
  return slots.map((_, k) => ({ w: outs[2 * k]!, v: outs[2 * k + 1]! }));
}
