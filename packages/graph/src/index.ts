/**
 * @kdbench/graph: graph-based distillation (survey section 5.4). The survey splits it in two:
 * - the graph as the carrier of the teacher's knowledge: `irg` (instance relationship graph),
 *   `lp` (locality-preserving k-NN graph);
 * - the graph as the control of how knowledge is passed.
 */
import type { MethodDefinition } from '@kdbench/core';
import { irg } from './irg.js';
import { lp } from './lp.js';

export { irg, irgLosses, irgEdges, irgTransformation } from './irg.js';
export { lp, localityPreservingLoss, localityWeights } from './lp.js';

export const graphMethods: MethodDefinition<any>[] = [irg, lp];
