/**
 * Decoding the official CIFAR binary records (label byte(s) then 3072 planar pixel bytes)
 * into RawSplit parts, with the size and label-range checks, and joining several files.
 */
import { IMAGE_BYTES, type DatasetSpec } from './datasets.js';
import { DataError } from './errors.js';
import type { RawSplit } from './types.js';

/** Records of one file. */
export interface DecodedFile {
  readonly images: Uint8Array;
  readonly labels: Int32Array;
  readonly coarseLabels: Int32Array | null;
  readonly n: number;
}

/** Decodes `bytes` read from `file` (named in errors). */
export function decodeRecords(bytes: Uint8Array, spec: DatasetSpec, file: string): DecodedFile {
  const rec = spec.recordBytes;
  if (bytes.length === 0) throw new DataError(`${file} is empty (expected records of ${rec} bytes)`, file);
  if (bytes.length % rec !== 0) {
    const whole = Math.floor(bytes.length / rec);
    throw new DataError(
      `${file} is truncated or not a ${spec.title} binary file: size ${bytes.length} bytes is not a multiple of the ` +
        `${rec}-byte record size (${whole} whole records + ${bytes.length - whole * rec} bytes)`,
      file,
    );
  }
  const n = bytes.length / rec;
  const images = new Uint8Array(n * IMAGE_BYTES);
  const labels = new Int32Array(n);
  const coarseLabels = spec.numCoarseClasses > 0 ? new Int32Array(n) : null;
  const fineAt = spec.labelBytes - 1;
  for (let i = 0; i < n; i++) {
    const base = i * rec;
    const fine = bytes[base + fineAt]!;
    if (fine >= spec.numClasses) {
      const what = coarseLabels ? 'fine label' : 'label';
      throw new DataError(`${file}: record ${i} has ${what} ${fine}, outside 0..${spec.numClasses - 1}`, file);
    }
    labels[i] = fine;
    if (coarseLabels) {
      const coarse = bytes[base]!;
      if (coarse >= spec.numCoarseClasses) {
        throw new DataError(`${file}: record ${i} has coarse label ${coarse}, outside 0..${spec.numCoarseClasses - 1}`, file);
      }
      coarseLabels[i] = coarse;
    }
    images.set(bytes.subarray(base + spec.labelBytes, base + rec), i * IMAGE_BYTES);
  }
  return { images, labels, coarseLabels, n };
}

/** Joins decoded files into one split; `idOffsets[k]` is added to the record index of file k. */
export function joinFiles(files: readonly DecodedFile[], idOffsets: readonly number[]): RawSplit {
  const n = files.reduce((s, f) => s + f.n, 0);
  const images = new Uint8Array(n * IMAGE_BYTES);
  const labels = new Int32Array(n);
  const ids = new Int32Array(n);
  const hasCoarse = files.length > 0 && files.every((f) => f.coarseLabels !== null);
  const coarseLabels = hasCoarse ? new Int32Array(n) : undefined;
  let at = 0;
  files.forEach((f, k) => {
    images.set(f.images, at * IMAGE_BYTES);
    labels.set(f.labels, at);
    if (coarseLabels) coarseLabels.set(f.coarseLabels!, at);
    for (let i = 0; i < f.n; i++) ids[at + i] = idOffsets[k]! + i;
    at += f.n;
  });
  return coarseLabels ? { images, labels, ids, n, coarseLabels } : { images, labels, ids, n };
}

/** Class names from a names file (one per line, blank lines ignored); checks the count. */
export function parseClassNames(text: string, expected: number, file: string): string[] {
  const names = text.split(/\r?\n/).map((s) => s.trim()).filter((s) => s.length > 0);
  if (names.length !== expected) {
    throw new DataError(`${file}: expected ${expected} class names, found ${names.length}`, file);
  }
  return names;
}
