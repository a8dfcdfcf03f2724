/**
 * The validation rows candidates are scored on: core's `carveValidation` (a seeded, class-balanced
 * fraction of each class of the training split; the evaluation split is never touched).
 */
export { carveValidation } from '@kdbench/core';
