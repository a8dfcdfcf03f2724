/** @kdbench/models: the CIFAR model zoo (the CRD benchmark's nets and the survey tables' nets), on plain TensorFlow.js ops. */
export * from './types.js';
export { createModel, listModels, modelCounts, modelIdProblem, parseModelId, type ModelIdParts } from './zoo.js';
export type { ModelCounts } from './models/base.js';
export { saveWeights, loadWeights, weightsHash, serializeWeights } from './weights.js';
export * as layers from './layers/index.js';
export { createSearchableModel, genomeCounts, genomeKey, validateGenome, bottleneckWidth, type SearchGenome, type SearchStage, type SearchBlock } from './models/searchable.js';
export { BasicBlock, PreActBlock, SeparableBlock, resnetBlocksPerStage, viewModel } from './blocks.js';
