/**
 * Static description of the supported datasets: official binary layout (record size, label
 * bytes), folder and archive names, file names, download URLs and official md5 checksums.
 */
import { DataError } from './errors.js';
import type { DatasetId } from './types.js';

export interface DatasetSpec {
  readonly id: DatasetId;
  readonly title: string;
  readonly numClasses: number;
  /** Number of coarse classes (CIFAR-100 superclasses), 0 when the dataset has none. */
  readonly numCoarseClasses: number;
  /** Label bytes before the 3072 pixel bytes of each record. */
  readonly labelBytes: number;
  /** Bytes per record: labelBytes + 3072. */
  readonly recordBytes: number;
  /** Folder the official archive extracts to. */
  readonly folder: string;
  /** File name of the official archive. */
  readonly archive: string;
  readonly url: string;
  readonly archiveMd5: string;
  /** Training files in official order. */
  readonly trainFiles: readonly string[];
  readonly testFile: string;
  /** Records per official training file; record ids are offset by index * this. */
  readonly recordsPerTrainFile: number;
  readonly classNamesFile: string;
  readonly coarseNamesFile: string | null;
  /** Official md5 of the extracted files, where known. */
  readonly fileMd5: Readonly<Record<string, string>>;
}

/** Pixel bytes per image: 3 planes of 32x32. */
export const IMAGE_BYTES = 3072;
export const IMAGE_SIZE = 32;

/** Default download location of the official archives (override with KDBENCH_CIFAR_MIRROR). */
export const OFFICIAL_BASE_URL = 'https://www.cs.toronto.edu/~kriz/';

export const DATASETS: Readonly<Record<DatasetId, DatasetSpec>> = {
  cifar10: {
    id: 'cifar10',
    title: 'CIFAR-10',
    numClasses: 10,
    numCoarseClasses: 0,
    labelBytes: 1,
    recordBytes: 1 + IMAGE_BYTES,
    folder: 'cifar-10-batches-bin',
    archive: 'cifar-10-binary.tar.gz',
    url: OFFICIAL_BASE_URL + 'cifar-10-binary.tar.gz',
    archiveMd5: 'c32a1d4ab5d03f1284b67883e8d87530',
    trainFiles: ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'],
    testFile: 'test_batch.bin',
    recordsPerTrainFile: 10000,
    classNamesFile: 'batches.meta.txt',
    coarseNamesFile: null,
    fileMd5: {
      'data_batch_1.bin': '5dd7e06a14cb22eb9f671a540d1b7c25',
      'data_batch_2.bin': '5ea93a67294ea407fff1d09f752e9692',
      'data_batch_3.bin': '942cd6a4bcdd0dd3c604fbe906cb4421',
      'data_batch_4.bin': 'ae636b3ba5c66a11e91e8cb52e771fcb',
      'data_batch_5.bin': '53f37980c15c3d472c316c40844f3f0d',
      'test_batch.bin': '803d5f7f4d78ea53de84dbe85f74fb6d',
    },
  },
  cifar100: {
    id: 'cifar100',
    title: 'CIFAR-100',
    numClasses: 100,
    numCoarseClasses: 20,
    labelBytes: 2,
    recordBytes: 2 + IMAGE_BYTES,
    folder: 'cifar-100-binary',
    archive: 'cifar-100-binary.tar.gz',
    url: OFFICIAL_BASE_URL + 'cifar-100-binary.tar.gz',
    archiveMd5: '03b5dce01913d631647c71ecec9e9cb8',
    trainFiles: ['train.bin'],
    testFile: 'test.bin',
    recordsPerTrainFile: 50000,
    classNamesFile: 'fine_label_names.txt',
    coarseNamesFile: 'coarse_label_names.txt',
    fileMd5: {
      'test.bin': '4499cfba6c016c1be1438163640a0898',
    },
  },
};

export const DATASET_IDS = Object.keys(DATASETS) as DatasetId[];

/** The spec of `id`; a DataError listing the valid ids for anything else (ids come from CLI flags). */
export function datasetSpec(id: string): DatasetSpec {
  if (!Object.prototype.hasOwnProperty.call(DATASETS, id)) {
    throw new DataError(`unknown dataset id '${id}'; valid ids: ${DATASET_IDS.join(', ')}`);
  }
  return DATASETS[id as DatasetId];
}
