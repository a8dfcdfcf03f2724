/**
 * The student on another modality, shared by the cross-modal methods: core's ModalityModel, a
 * wrapper network that sees every input batch through the modality transform of @kdbench/data
 * (modalities.ts) before the zoo network. Returned as the method instance's `student`, it is what
 * the trainer trains and evaluates, so the training batches and the evaluation split both reach
 * the student in the modality, while the teacher keeps seeing RGB.
 */
import { ConfigError, ModalityModel, normalizationFor } from '@kdbench/core';
import { isModality, MODALITIES, type Modality } from '@kdbench/data';
import type { Model } from '@kdbench/models';

export { ModalityModel, normalizationFor };

/** The student modalities (every modality but the teacher's RGB). */
export const STUDENT_MODALITIES = MODALITIES.filter((m) => m !== 'rgb');

export const MODALITY_DOC = `the student's input modality: ${STUDENT_MODALITIES.join(' | ')} (the teacher sees RGB)`;

/** The `modality` hyperparameter, checked. */
export function studentModality(method: string, value: string): Modality {
  if (!isModality(value) || value === 'rgb') {
    throw new ConfigError(`method '${method}': modality must be one of ${STUDENT_MODALITIES.join(', ')}, got '${value}'`);
  }
  return value;
}

/** The wrapper for a method's context: ctx.student seen through hp.modality. */
export function modalityStudent(method: string, ctx: { hp: { modality: string }; dataset: string; student: Model }): ModalityModel {
  return new ModalityModel(ctx.student, studentModality(method, ctx.hp.modality), normalizationFor(method, ctx.dataset));
}
