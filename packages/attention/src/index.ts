/** @kdbench/attention: attention-based distillation methods (survey section 5.5). */
import { at } from './at.js';
import { semckd } from './semckd.js';

export { at, semckd };
export const attentionMethods = [at, semckd] as const;
