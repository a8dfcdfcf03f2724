/** @kdbench/attention: attention-based distillation methods (survey section 5.5). */
import { at } from './at.js';
import { ctkd } from './ctkd.js';
import { semckd } from './semckd.js';

export { at, ctkd, semckd };
export const attentionMethods = [at, semckd, ctkd] as const;
