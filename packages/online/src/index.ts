/** @kdbench/online: online distillation, peers trained together without a pre-trained teacher (survey section 3.2). */
import type { MethodDefinition } from '@kdbench/core';
import { dml } from './dml.js';
import { one } from './one.js';
import { kdcl } from './kdcl.js';
import { rocket } from './rocket.js';
import { pcl } from './pcl.js';
import { dcm } from './dcm.js';

export { dml, mutualKL } from './dml.js';
export { one, OneBranches, gatedEnsemble, sigmoidRampup } from './one.js';
export { kdcl, minLogitEnsemble, naiveEnsemble } from './kdcl.js';
export { rocket } from './rocket.js';
export { pcl, PeerBranches, peerMeanKD, peerOutputs } from './pcl.js';
export { dcm, CrossLayerHeads, crossLayerKL, dcmHeadPlan, type HeadPlan, type HeadStage } from './dcm.js';

export const onlineMethods: MethodDefinition<any>[] = [dml, one, kdcl, rocket, pcl, dcm];
