/** @kdbench/nas: NAS-based distillation (survey section 5.9): teacher-guided search of a student, then KD. */
import type { MethodDefinition } from '@kdbench/core';
import { nasrandom } from './nasrandom.js';
import { nasevo } from './nasevo.js';

export { nasrandom } from './nasrandom.js';
export { nasevo } from './nasevo.js';
export { CIFAR_SPACE, sampleGenome, mutateGenome, measureFor, fits, spaceSize, type SearchSpace, type Budget, type Counts, type Measure } from './space.js';
export { randomSearch, regularizedEvolution, type Candidate, type Score, type SearchOptions, type SearchResult } from './search.js';
export { searchAndDistil, searchSummary, stageSimilarity, SEARCH_DEFAULTS, SEARCH_DOCS } from './guided.js';
export { carveValidation } from './split.js';
export { pearson, rdmUpper, rdmSimilarity, rdmOfTensor } from './rsa.js';

export const nasMethods: MethodDefinition<any>[] = [nasrandom, nasevo];
