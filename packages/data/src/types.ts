import type { tf } from '@kdbench/engine';

export type DatasetId = 'cifar10' | 'cifar100';

/** Records of one split, pixels kept as bytes in the official planar layout (N x 3 x 32 x 32). */
export interface RawSplit {
  /** N * 3072 bytes: per record 1024 R, 1024 G, 1024 B, each 32x32 row-major (official order). */
  readonly images: Uint8Array;
  /** N labels (fine labels for CIFAR-100). */
  readonly labels: Int32Array;
  /** Index of each record in its source file order (stable ids for caching teacher outputs). */
  readonly ids: Int32Array;
  readonly n: number;
  /** CIFAR-100 only: N coarse (superclass) labels, 0..19. */
  readonly coarseLabels?: Int32Array;
}

export interface CifarData {
  readonly id: DatasetId;
  readonly numClasses: number;
  readonly classNames: string[];
  /** CIFAR-100 only: the 20 superclass names (coarse labels are in RawSplit.coarseLabels). */
  readonly coarseClassNames?: string[];
  readonly train: RawSplit;
  /** null when the data dir has no test file (CIFAR-100 here). */
  readonly test: RawSplit | null;
  /** The files actually read, for provenance. */
  readonly files: string[];
}

/** The splits a run trains and evaluates on. */
export interface RunSplits {
  readonly train: RawSplit;
  readonly evaluation: RawSplit;
  /** 'test' (official test file) or 'holdout' (seeded class-balanced holdout of training records). */
  readonly evalSplit: 'test' | 'holdout';
  /** Human-readable description, stored with every result, e.g. "test (10000)" or "holdout 20/class of train, seed 0". */
  readonly description: string;
}

export interface BatchOptions {
  batchSize: number;
  /** Shuffle + augmentation are a pure function of (seed, epoch): same seed and epoch give the same batches. */
  seed: number;
  epoch: number;
  shuffle: boolean;
  /** Random crop 32 with 4-pixel zero padding and horizontal flip. */
  augment: boolean;
  /** Drop the last incomplete batch. */
  dropLast?: boolean;
}

export interface Batch {
  /** [B, 32, 32, 3] float32, per-channel normalised. Owned by the caller: dispose it. */
  x: tf.Tensor4D;
  /** [B] int32 labels. Owned by the caller: dispose it. */
  y: tf.Tensor1D;
  /** Record ids (RawSplit.ids) of the batch rows. */
  ids: Int32Array;
  /** Position of this batch in the epoch. */
  step: number;
}
