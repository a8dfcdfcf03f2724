/** Selecting records of a RawSplit: by index list, and grouping record indices by class. */
import { IMAGE_BYTES } from './datasets.js';
import type { RawSplit } from './types.js';

/** A new split holding records `indices` of `split`, in that order (ids and coarse labels kept). */
export function subsetSplit(split: RawSplit, indices: ArrayLike<number>): RawSplit {
  const n = indices.length;
  const images = new Uint8Array(n * IMAGE_BYTES);
  const labels = new Int32Array(n);
  const ids = new Int32Array(n);
  const coarse = split.coarseLabels ? new Int32Array(n) : undefined;
  for (let k = 0; k < n; k++) {
    const i = indices[k]!;
    images.set(split.images.subarray(i * IMAGE_BYTES, (i + 1) * IMAGE_BYTES), k * IMAGE_BYTES);
    labels[k] = split.labels[i]!;
    ids[k] = split.ids[i]!;
    if (coarse) coarse[k] = split.coarseLabels![i]!;
  }
  return coarse ? { images, labels, ids, n, coarseLabels: coarse } : { images, labels, ids, n };
}

/** Record indices of each class 0..numClasses-1, ascending. */
export function indicesByClass(split: RawSplit, numClasses: number): number[][] {
  const out: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < split.n; i++) out[split.labels[i]!]!.push(i);
  return out;
}

/** Records per class. */
export function classCounts(split: RawSplit, numClasses: number): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < split.n; i++) counts[split.labels[i]!]!++;
  return counts;
}
