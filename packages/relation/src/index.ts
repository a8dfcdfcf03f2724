/** @kdbench/relation: relation- and graph-based distillation methods (survey sections 2.3, 5.4). */
import type { MethodDefinition } from '@kdbench/core';
import { fsp } from './fsp.js';
import { sp } from './sp.js';
import { cc } from './cc.js';
import { rkd } from './rkd.js';
import { pkt } from './pkt.js';
import { irg } from './irg.js';
import { crd, crdkd } from './crd.js';
import { graph } from './graph.js';

export { fsp, fspLoss, fspMatrices } from './fsp.js';
export { sp, similarityPreservingLoss } from './sp.js';
export { cc, correlationCongruenceLoss, rbfTaylorCorrelation } from './cc.js';
export { rkd, rkdLoss } from './rkd.js';
export { pkt, pktLoss } from './pkt.js';
export { irg, irgLosses, irgEdges, irgTransformation } from './irg.js';
export { crd, crdkd, crdMemory, ContrastMemory, nceLoss, sampleContrastIndices } from './crd.js';
export { graph, localityPreservingLoss, localityWeights } from './graph.js';
export { embeddingDim } from '@kdbench/core';

export const relationMethods: MethodDefinition<any>[] = [fsp, sp, cc, rkd, pkt, irg, crd, crdkd, graph];
export { sskd, cosineTo, keptRows, rotatedViews, selfSupervisionLoss, sskdTerms } from './sskd.js';
