/**
 * @kdbench/adversarial: adversarial distillation (survey section 5.1), its three kinds:
 * (a) generator-augmented transfer: abm (hard generated samples beside the real ones);
 * (b) discriminator-guided: cganlogits (label-conditioned logits), advfeat (features), meal (several blocks);
 * (c) online adversarial distillation among peers: afd.
 * Discriminators and generators are optimisation players with their own Adam, stepped before the student.
 */
import type { MethodDefinition } from '@kdbench/core';
import { abm } from './abm.js';
import { advfeat } from './advfeat.js';
import { afd } from './afd.js';
import { cganlogits } from './cganlogits.js';
import { meal } from './meal.js';

export { abm } from './abm.js';
export { cganlogits, conditionOnLabel } from './cganlogits.js';
export { advfeat } from './advfeat.js';
export { meal, blockOutputs } from './meal.js';
export { afd } from './afd.js';
export { bceWithLogits, leastSquares, discriminatorAccuracy, MlpDiscriminator, ConvDiscriminator } from './shared/gan.js';

export const adversarialMethods: MethodDefinition<any>[] = [abm, cganlogits, advfeat, meal, afd];
