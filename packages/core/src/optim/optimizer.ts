/** What the trainer needs from an optimiser: an update, and its state by stable name for checkpoints. */
import type { tf } from '@kdbench/engine';

export interface Optimizer {
  /** One update with learning rate lr; grads are keyed by variable name (tf.variableGrads). */
  apply(lr: number, variables: tf.Variable[], grads: Record<string, tf.Tensor>): void;
  /** Slot variables, named `prefix + nameOf(weight) + slot suffix`. */
  state(prefix: string, nameOf: (w: tf.Variable) => string): { name: string; variable: tf.Variable }[];
  /** Restores what state() saved under the same names (missing entries start fresh). */
  load(prefix: string, variables: tf.Variable[], nameOf: (w: tf.Variable) => string, values: Map<string, tf.Tensor>): void;
  dispose(): void;
}
