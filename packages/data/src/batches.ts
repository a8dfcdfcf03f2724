/**
 * Mini-batches of a RawSplit as tensors. Record order and augmentation are a pure function of
 * (seed, epoch): the order comes from Rng(seed).fork('epoch<e>').fork('order') and the crop /
 * flip draws from ...fork('augment'), one (cropY, cropX, flip) triple per record in batch order.
 * Each batch is built in one Float32Array in JS; the only tensors created are the returned x, y.
 */
import { Rng, tf } from '@kdbench/engine';
import { PAD, IDENTITY, writeRecord, type RecordTransform } from './augment.js';
import { IMAGE_BYTES, IMAGE_SIZE } from './datasets.js';
import { DataError } from './errors.js';
import { NORMALIZATION, normalizationTable } from './normalize.js';
import type { Batch, BatchOptions, DatasetId, RawSplit } from './types.js';

/** Batches per epoch for `n` records. */
export function batchCount(n: number, opts: Pick<BatchOptions, 'batchSize' | 'dropLast'>): number {
  checkBatchSize(opts.batchSize);
  return opts.dropLast ? Math.floor(n / opts.batchSize) : Math.ceil(n / opts.batchSize);
}

/** The record order of an epoch (indices into the split). */
export function epochOrder(n: number, opts: Pick<BatchOptions, 'seed' | 'epoch' | 'shuffle'>): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  if (opts.shuffle) epochRng(opts).fork('order').shuffle(order);
  return order;
}

export function* batches(split: RawSplit, dataset: DatasetId, opts: BatchOptions): Generator<Batch> {
  const count = batchCount(split.n, opts);
  if (split.images.length !== split.n * IMAGE_BYTES || split.labels.length !== split.n) {
    throw new DataError(`batches: split arrays do not match n=${split.n}`);
  }
  const lut = normalizationTable(NORMALIZATION[dataset]);
  const order = epochOrder(split.n, opts);
  const aug = opts.augment ? epochRng(opts).fork('augment') : null;
  const span = 2 * PAD + 1;
  for (let step = 0; step < count; step++) {
    const start = step * opts.batchSize;
    const size = Math.min(opts.batchSize, split.n - start);
    const buf = new Float32Array(size * IMAGE_SIZE * IMAGE_SIZE * 3);
    const labels = new Int32Array(size);
    const ids = new Int32Array(size);
    for (let b = 0; b < size; b++) {
      const r = order[start + b]!;
      const t: RecordTransform = aug ? { cropY: aug.int(span), cropX: aug.int(span), flip: aug.next() < 0.5 } : IDENTITY;
      writeRecord(split.images, r, buf, b * IMAGE_BYTES, lut, t);
      labels[b] = split.labels[r]!;
      ids[b] = split.ids[r]!;
    }
    const x = tf.tensor4d(buf, [size, IMAGE_SIZE, IMAGE_SIZE, 3], 'float32');
    const y = tf.tensor1d(labels, 'int32');
    yield { x, y, ids, step };
  }
}

/** Batches in record order without augmentation (evaluation); the last batch may be short. */
export function evalBatches(split: RawSplit, dataset: DatasetId, batchSize: number): Generator<Batch> {
  return batches(split, dataset, { batchSize, seed: 0, epoch: 0, shuffle: false, augment: false, dropLast: false });
}

function epochRng(opts: Pick<BatchOptions, 'seed' | 'epoch'>): Rng {
  return new Rng(opts.seed).fork(`epoch${opts.epoch}`);
}

function checkBatchSize(batchSize: number): void {
  if (!(Number.isInteger(batchSize) && batchSize > 0)) {
    throw new DataError(`batchSize must be a positive integer, got ${batchSize}`);
  }
}

/**
 * A batch of the given split rows (e.g. partners a method asks for), augmented like training
 * batches with draws from `rng` (one (cropY, cropX, flip) triple per row, in row order).
 */
export function rowsBatch(split: RawSplit, dataset: DatasetId, rows: Int32Array, opts: { augment: boolean; rng: Rng }): Batch {
  const lut = normalizationTable(NORMALIZATION[dataset]);
  const span = 2 * PAD + 1;
  const size = rows.length;
  const buf = new Float32Array(size * IMAGE_SIZE * IMAGE_SIZE * 3);
  const labels = new Int32Array(size);
  const ids = new Int32Array(size);
  for (let b = 0; b < size; b++) {
    const r = rows[b]!;
    if (!(Number.isInteger(r) && r >= 0 && r < split.n)) throw new DataError(`rowsBatch: row ${r} is outside the split (0..${split.n - 1})`);
    const t: RecordTransform = opts.augment ? { cropY: opts.rng.int(span), cropX: opts.rng.int(span), flip: opts.rng.next() < 0.5 } : IDENTITY;
    writeRecord(split.images, r, buf, b * IMAGE_BYTES, lut, t);
    labels[b] = split.labels[r]!;
    ids[b] = split.ids[r]!;
  }
  return { x: tf.tensor4d(buf, [size, IMAGE_SIZE, IMAGE_SIZE, 3], 'float32'), y: tf.tensor1d(labels, 'int32'), ids, step: 0 };
}
