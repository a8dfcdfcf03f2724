/**
 * @kdbench/graph: graph-based distillation (survey section 5.4). The survey splits it in two:
 * - the graph as the carrier of the teacher's knowledge: `irg` (instance relationship graph),
 *   `lp` (locality-preserving k-NN graph), `mhgd` (multi-head attention graphs between stages),
 *   `hkd` (holistic features of a k-NN instance graph), `lsp` (local structures on a k-NN graph);
 * - the graph as the control of how knowledge is passed: `ktg` (knowledge transfer graph: networks as
 *   vertices, gated losses as edges, optionally searched), `graphdistill` (modalities as vertices,
 *   per-example edge weights from a learned kernel).
 */
import type { MethodDefinition } from '@kdbench/core';
import { irg } from './irg.js';
import { lp } from './lp.js';
import { mhgd } from './mhgd.js';
import { hkd } from './hkd.js';
import { lsp } from './lsp.js';
import { ktg } from './ktg.js';
import { graphdistill } from './graphdistill.js';

export { irg, irgLosses, irgEdges, irgTransformation } from './irg.js';
export { lp, localityPreservingLoss, localityWeights } from './lp.js';
export { mhgd, AttentionPair, headDropMask, headGraphs, rowKLSum, stageSingularVectors } from './mhgd.js';
export { hkd, HolisticMemory, holisticFeatures, infoNce } from './hkd.js';
export { lsp, logLocalStructure, lspLoss } from './lsp.js';
export { ktg } from './ktg.js';
export { graphdistill, DistillationKernel, graphDistillationLosses, imitationDistance, modalitiesOf } from './graphdistill.js';
export { GATES, correctRows, formatGates, gated, graphLosses, parseGates, parseNodes, type Gate, type GraphNode } from './shared/transfer-graph.js';
export { sampleGraphs, successiveHalving } from './shared/graph-search.js';
export { alignToTeacher, rightSingularVectors, symmetricEigen } from './shared/singular-vectors.js';

export const graphMethods: MethodDefinition<any>[] = [irg, lp, mhgd, hkd, lsp, ktg, graphdistill];
