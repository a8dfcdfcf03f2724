/** Hyperparameter helpers shared by the multi-teacher methods. */
import { ConfigError } from '@kdbench/core';

/** Default `teachers`: two more networks of the run's teacher architecture, seeds 1 and 2. */
export const DEFAULT_TEACHERS = 'teacher:1,teacher:2';

export const TEACHERS_DOC =
  "extra teachers besides the run's teacher: comma-separated model:seed, 'teacher' = the run's teacher architecture " +
  "(each trained once into the teacher store; an entry equal to the run's teacher is skipped)";

/** Throws a ConfigError unless `value` is a number in [lo, hi]. */
export function checkRange(method: string, name: string, value: number, lo: number, hi: number): void {
  if (!(value >= lo && value <= hi)) throw new ConfigError(`method '${method}': ${name} must be in [${lo}, ${hi}], got ${value}`);
}

/** Throws a ConfigError when the ensemble has fewer than `min` teachers. */
export function checkEnsembleSize(method: string, size: number, min: number): void {
  if (size < min) {
    throw new ConfigError(`method '${method}' needs at least ${min} distinct teachers, got ${size} (list more in the hyperparameter teachers)`);
  }
}
