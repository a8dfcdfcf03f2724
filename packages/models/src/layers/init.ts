/**
 * Weight initialisers matching the PyTorch references, drawn from a seeded Rng:
 * - Kaiming normal, fan_out mode, ReLU gain (He et al., ICCV 2015): N(0, 2 / (k*k*out)), the
 *   `normal_(0, sqrt(2/n))` / `kaiming_normal_(mode='fan_out')` that RepDistiller uses;
 * - PyTorch's default Conv/Linear init, kaiming_uniform(a=sqrt(5)) = U(-1/sqrt(fan_in), ..),
 *   with the bias also U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
 */
import type { Rng } from '@kdbench/engine';

export type Init = (rng: Rng, size: number) => Float32Array;

export function normalInit(std: number, mean = 0): Init {
  return (rng, size) => {
    const a = new Float32Array(size);
    for (let i = 0; i < size; i++) a[i] = mean + std * rng.normal();
    return a;
  };
}

export function uniformInit(bound: number): Init {
  return (rng, size) => {
    const a = new Float32Array(size);
    for (let i = 0; i < size; i++) a[i] = (2 * rng.next() - 1) * bound;
    return a;
  };
}

export function constantInit(value: number): Init {
  return (_rng, size) => new Float32Array(size).fill(value);
}

/** Std of Kaiming-normal fan_out (ReLU gain) for a conv with `outChannels` k x k filters. */
export function kaimingFanOutStd(kernelSize: number, outChannels: number): number {
  return Math.sqrt(2 / (kernelSize * kernelSize * outChannels));
}

/** Bound of PyTorch's default uniform init for a layer with the given fan-in. */
export function torchDefaultBound(fanIn: number): number {
  return 1 / Math.sqrt(fanIn);
}
