/** @kdbench/data: CIFAR-10/100 readers, download with md5, run splits and the batch pipeline. */
export type * from './types.js';
export { DataError } from './errors.js';
export { DATASETS, DATASET_IDS, IMAGE_BYTES, IMAGE_SIZE, OFFICIAL_BASE_URL, datasetSpec, type DatasetSpec } from './datasets.js';
export { resolveDataDir } from './data-dir.js';
export { loadCifar, type LoadOptions } from './load.js';
export { fetchDataset, archiveUrl, type FetchOptions } from './fetch.js';
export { formatProgress } from './progress.js';
export { md5File } from './md5.js';
export { TarParser, type TarEntry, type TarEntryType } from './tar.js';
export { extractTarGz, readTarGzMembers } from './archive.js';
export { makeRunSplits, type SplitOptions } from './splits.js';
export { subsetSplit, classCounts, indicesByClass } from './subset.js';
export {
  NORMALIZATION,
  CIFAR10_NORMALIZATION,
  CIFAR100_NORMALIZATION,
  normalizationTable,
  type Normalization,
} from './normalize.js';
export { PAD, writeRecord, type RecordTransform } from './augment.js';
export { batches, evalBatches, batchCount, epochOrder, rowsBatch } from './batches.js';
export { MODALITIES, LUMA_WEIGHTS, applyModality, denormalize, isModality, lowResolution, luminance, sobelMagnitude, type Modality } from './modalities.js';
