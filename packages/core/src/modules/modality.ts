/**
 * A network that sees its inputs through an image modality (packages/data/src/modalities.ts): the
 * transform runs inside the forward pass, so training batches and the evaluation split both reach
 * the network in the modality. Shared by the cross-modal methods (a student on another modality
 * than its RGB teacher) and the graph distillation over modalities (one network per modality).
 */
import { applyModality, CIFAR100_NORMALIZATION, CIFAR10_NORMALIZATION, type Modality, type Normalization } from '@kdbench/data';
import { tf } from '@kdbench/engine';
import type { ForwardOptions, ForwardResult, Model } from '@kdbench/models';
import { ConfigError } from '../registry.js';

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
