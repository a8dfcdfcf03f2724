/**
 * What the four quantized methods share: the bit-width hyperparameters, the quantised student built
 * from them, and the size record they report (`model_bytes`, `wbits`, `abits` in their metrics).
 */
import type { MethodContext } from '@kdbench/core';
import { quantize, type QuantizedModel } from '../quantize.js';

export const QUANT_DEFAULTS: { wbits: number; abits: number; edgeBits: number } = { wbits: 4, abits: 0, edgeBits: 8 };

export const QUANT_DOCS = {
  wbits: 'weight bits of the student: 8, 4, 2 (ternary, TWN threshold 0.7 mean|w| per output channel) or 32 (full precision)',
  abits: 'activation bits of the student; 0 = same as wbits, except 8 when wbits = 2 (ternary weights, 8-bit activations)',
  edgeBits: 'lowest bit width of the first conv and the last linear layer, weights and inputs (8: integer deployment; 32: full precision)',
} as const;

export interface QuantHyper {
  readonly wbits: number;
  readonly abits: number;
  readonly edgeBits: number;
}

/** Weight and activation bits of a run (abits 0 = wbits, or 8 under ternary weights). */
export function bitsOf(hp: QuantHyper): { weightBits: number; activationBits: number; edgeBits: number } {
  const weightBits = Number(hp.wbits);
  const abits = Number(hp.abits);
  const activationBits = abits === 0 ? (weightBits === 2 ? 8 : weightBits) : abits;
  return { weightBits, activationBits, edgeBits: Number(hp.edgeBits) };
}

/** The run's student wrapped by the fake quantiser at the run's bit widths. */
export function quantizedStudent(ctx: MethodContext<any>): QuantizedModel {
  return quantize(ctx.student, bitsOf(ctx.hp as QuantHyper));
}

/** The size record every quantized method reports beside its accuracy. */
export function sizeRecord(q: QuantizedModel): Record<string, number> {
  return { model_bytes: q.modelBytes(), wbits: q.bits.weightBits, abits: q.bits.activationBits };
}
