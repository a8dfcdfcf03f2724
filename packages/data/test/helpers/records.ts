/** Test-only builders of CIFAR binary records and tiny hand-made splits. */
import type { RawSplit } from '../../src/types.js';

/** CIFAR-10 style records: label byte + 3072 pixel bytes from `pixel(record, channel, y, x)`. */
export function cifar10Records(labels: number[], pixel: (r: number, c: number, y: number, x: number) => number): Buffer {
  const out = Buffer.alloc(labels.length * 3073);
  labels.forEach((label, r) => {
    out[r * 3073] = label;
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) out[r * 3073 + 1 + c * 1024 + y * 32 + x] = pixel(r, c, y, x);
  });
  return out;
}

/** A split from a pixel function, ids = 100 + index. */
export function makeSplit(labels: number[], pixel: (r: number, c: number, y: number, x: number) => number): RawSplit {
  const n = labels.length;
  const images = new Uint8Array(n * 3072);
  for (let r = 0; r < n; r++)
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) images[r * 3072 + c * 1024 + y * 32 + x] = pixel(r, c, y, x);
  return { images, labels: Int32Array.from(labels), ids: Int32Array.from(labels, (_, i) => 100 + i), n };
}
