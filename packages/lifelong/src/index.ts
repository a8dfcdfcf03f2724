/** @kdbench/lifelong: lifelong (class-incremental) distillation (survey section 5.8). */
import type { MethodDefinition } from '@kdbench/core';
import { finetune } from './finetune.js';
import { joint } from './joint.js';
import { lwf } from './lwf.js';
import { icarl } from './icarl.js';

export { finetune } from './finetune.js';
export { joint } from './joint.js';
export { lwf, lwfLoss } from './lwf.js';
export { icarl, icarlLoss, memoryBudget, ICARL_FORMS, type IcarlForm } from './icarl.js';
export { classIncremental, planTasks, seenLogits, columns, copyWeights, INCREMENTAL_DEFAULTS, INCREMENTAL_DOCS, type Strategy, type TaskPlan } from './incremental.js';
export { classOrder, defaultTasks, taskClasses, rowsOfClasses } from './tasks.js';
export { herding, classMean, normalizeRows } from './herding.js';
export { ExemplarMemory } from './memory.js';
export { incrementalSummary, type IncrementalSummary } from './metrics.js';

export const lifelongMethods: MethodDefinition<any>[] = [finetune, joint, lwf, icarl];
