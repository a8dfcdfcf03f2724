/** @kdbench/multi-teacher: multi-teacher distillation methods (survey section 5.2). */
import type { MethodDefinition } from '@kdbench/core';
import { avgkd } from './avgkd.js';
import { youmt } from './youmt.js';
import { randteacher } from './randteacher.js';
import { aekd } from './aekd.js';
import { camkd } from './camkd.js';
import { twoteacher } from './twoteacher.js';
import { noisyteacher } from './noisyteacher.js';

export { avgkd } from './avgkd.js';
export { youmt, votedTripletLoss } from './youmt.js';
export { randteacher } from './randteacher.js';
export { aekd, logitGradients } from './aekd.js';
export { camkd, confidenceWeights, weightedMean } from './camkd.js';
export { twoteacher } from './twoteacher.js';
export { noisyteacher, perturbLogits, logitRegression } from './noisyteacher.js';
export { minNormWeights, projectCappedSimplex, gramOf } from './shared/min-norm.js';
export { parseTeachers, ensembleOf, teacherAccuracies, averagedEnsemble, averagedSoftTargetKL, rowKL } from './shared/ensemble.js';

export const multiTeacherMethods: MethodDefinition<any>[] = [avgkd, youmt, randteacher, aekd, camkd, twoteacher, noisyteacher];
