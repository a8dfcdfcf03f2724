/**
 * The student on another modality, shared by the cross-modal methods: a wrapper network that sees
 * every input batch through the modality transform of @kdbench/data (modalities.ts) before the zoo
 * network. Returned as the method instance's `student`, it is what the trainer trains and
 * evaluates, so the training batches and the evaluation split both reach the student in the
 * modality, while the teacher keeps seeing RGB.
 */
import { ConfigError } from '@kdbench/core';
import { applyModality, CIFAR100_NORMALIZATION, CIFAR10_NORMALIZATION, isModality, MODALITIES, type Modality, type Normalization } from '@kdbench/data';
import { tf } from '@kdbench/engine';
import type { ForwardOptions, ForwardResult, Model } from '@kdbench/models';

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

/** Normalisation constants of the run's dataset (the modalities are defined on CIFAR-10/100). */
export function normalizationFor(method: string, dataset: string): Normalization {
  if (dataset === 'cifar10') return CIFAR10_NORMALIZATION;
  if (dataset === 'cifar100') return CIFAR100_NORMALIZATION;
  throw new ConfigError(`method '${method}': no CIFAR normalisation for dataset '${dataset}'`);
}

/** `inner` seeing its inputs through `modality`. Owns nothing: disposing it leaves `inner` alone. */
export class ModalityModel implements Model {
  readonly id: string;

  constructor(readonly inner: Model, readonly modality: Modality, readonly norm: Normalization) {
    this.id = `${inner.id}@${modality}`;
  }

  get options() {
    return this.inner.options;
  }

  forward(x: tf.Tensor4D, opts: ForwardOptions): ForwardResult {
    return tf.tidy(() => this.inner.forward(applyModality(x, this.modality, this.norm), opts) as unknown as tf.TensorContainer) as unknown as ForwardResult;
  }

  trainableVariables(): tf.Variable[] {
    return this.inner.trainableVariables();
  }

  classifierVariables(): tf.Variable[] {
    return this.inner.classifierVariables();
  }

  namedVariables() {
    return this.inner.namedVariables();
  }

  paramCount(): number {
    return this.inner.paramCount();
  }

  flops(): number {
    return this.inner.flops();
  }

  featureShapes() {
    return this.inner.featureShapes();
  }

  dispose(): void {}
}

/** The wrapper for a method's context: ctx.student seen through hp.modality. */
export function modalityStudent(method: string, ctx: { hp: { modality: string }; dataset: string; student: Model }): ModalityModel {
  return new ModalityModel(ctx.student, studentModality(method, ctx.hp.modality), normalizationFor(method, ctx.dataset));
}
