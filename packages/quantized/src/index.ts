/**
 * @kdbench/quantized: quantized distillation (survey section 5.7). A fake-quantisation wrapper for
 * any zoo model (straight-through estimator; weights per output channel, activations per tensor) and
 * the methods that train a low-precision student: qat (no teacher, the baseline), quantdistill
 * (Polino et al. 2018), apprentice (Mishra & Marr 2018) and qkd (Kim et al. 2019). Their report view
 * (accuracy against bits and model size) is in @kdbench/report (src/views/quantized.ts).
 */
import type { MethodDefinition } from '@kdbench/core';
import { qat } from './qat.js';
import { quantdistill } from './quantdistill.js';
import { apprentice } from './apprentice.js';
import { qkd } from './qkd.js';

export {
  quantize, type QuantizeOptions, type QuantizedModel, type QuantizedLayer, type SizeBreakdown,
} from './quantize.js';
export {
  FULL_PRECISION, TWN_THRESHOLD, activationSteps, fakeQuantActivation, fakeQuantWeight, quantizeSymmetric,
  quantizeWeightValues, symmetricLevels, ternarize,
} from './quantizer.js';
export { QUANT_DEFAULTS, QUANT_DOCS, bitsOf, quantizedStudent, sizeRecord, type QuantHyper } from './shared/student.js';
export { qat } from './qat.js';
export { quantdistill } from './quantdistill.js';
export { apprentice } from './apprentice.js';
export { qkd } from './qkd.js';

export const quantizedMethods: MethodDefinition<any>[] = [qat, quantdistill, apprentice, qkd];
