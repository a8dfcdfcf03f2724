/**
 * Per-channel normalisation constants (RGB, on pixels scaled to [0, 1]) and the byte -> float
 * lookup table the batch builder uses: value = (byte / 255 - mean[c]) / std[c].
 */
import type { DatasetId } from './types.js';

export interface Normalization {
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
}

export const CIFAR10_NORMALIZATION: Normalization = {
  mean: [0.4914, 0.4822, 0.4465],
  std: [0.247, 0.2435, 0.2616],
};

export const CIFAR100_NORMALIZATION: Normalization = {
  mean: [0.5071, 0.4867, 0.4408],
  std: [0.2675, 0.2565, 0.2761],
};

export const NORMALIZATION: Readonly<Record<DatasetId, Normalization>> = {
  cifar10: CIFAR10_NORMALIZATION,
  cifar100: CIFAR100_NORMALIZATION,
};

/** 3 x 256 table: entry c * 256 + v is the normalised value of byte v in channel c. */
export function normalizationTable(norm: Normalization): Float32Array {
  const lut = new Float32Array(3 * 256);
  for (let c = 0; c < 3; c++) {
    for (let v = 0; v < 256; v++) lut[c * 256 + v] = (v / 255 - norm.mean[c]!) / norm.std[c]!;
  }
  return lut;
}
