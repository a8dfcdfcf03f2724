/** @kdbench/relation: relation-based distillation methods (survey section 2.3); the graph-based ones are in @kdbench/graph. */
import type { MethodDefinition } from '@kdbench/core';
import { fsp } from './fsp.js';
import { sp } from './sp.js';
import { cc } from './cc.js';
import { rkd } from './rkd.js';
import { pkt } from './pkt.js';
import { crd, crdkd } from './crd.js';

export { fsp, fspLoss, fspMatrices } from './fsp.js';
export { sp, similarityPreservingLoss } from './sp.js';
export { cc, correlationCongruenceLoss, rbfTaylorCorrelation } from './cc.js';
export { rkd, rkdLoss } from './rkd.js';
export { pkt, pktLoss } from './pkt.js';
export { crd, crdkd, crdMemory, ContrastMemory, nceLoss, sampleContrastIndices } from './crd.js';
export { embeddingDim } from '@kdbench/core';

export const relationMethods: MethodDefinition<any>[] = [fsp, sp, cc, rkd, pkt, crd, crdkd];
export { sskd, cosineTo, keptRows, rotatedViews, selfSupervisionLoss, sskdTerms } from './sskd.js';
