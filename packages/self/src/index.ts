/** @kdbench/self: self-distillation, a network teaching itself (survey section 3.3). */
import type { MethodDefinition } from '@kdbench/core';
import { byot } from './byot.js';
import { tfkdself } from './tfkdself.js';
import { tfkdvirtual } from './tfkdvirtual.js';
import { cskd } from './cskd.js';
import { ban } from './ban.js';
import { snapshot } from './snapshot.js';
import { ddgsd } from './ddgsd.js';

export { byot, BYOT_FORMS, hintLoss, SelfDistillationHeads, softKL, type ByotForm } from './byot.js';
export { tfkdself } from './tfkdself.js';
export { tfkdvirtual, virtualTeacher } from './tfkdvirtual.js';
export { cskd, ClassPartners } from './cskd.js';
export { ban, bornAgainLoss, softmaxEnsembleView } from './ban.js';
export { snapshot, cycleStarts, cyclicLearningRate } from './snapshot.js';
export { ddgsd, linearMMD, mutualViewKL } from './ddgsd.js';
export { copyWeights } from './shared/copy.js';

export const selfMethods: MethodDefinition<any>[] = [byot, tfkdself, tfkdvirtual, cskd, ban, snapshot, ddgsd];
