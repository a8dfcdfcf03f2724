/** @kdbench/models: the CIFAR model zoo of the CRD benchmark, on plain TensorFlow.js ops. */
export * from './types.js';
export { createModel, listModels } from './zoo.js';
export { saveWeights, loadWeights, weightsHash, serializeWeights } from './weights.js';
export * as layers from './layers/index.js';
export { createSearchableModel, genomeCounts, genomeKey, validateGenome, bottleneckWidth, type SearchGenome, type SearchStage, type SearchBlock } from './models/searchable.js';
export { BasicBlock, resnetBlocksPerStage, viewModel } from './blocks.js';
