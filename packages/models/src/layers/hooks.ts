/**
 * Forward hooks: a way for a method to look at or rewrite what flows through a network's layers
 * without a copy of the network's code. They are active during one `model.forward(x, { hooks })`
 * call (set on entry, restored on exit, nested calls see their own hooks).
 *
 * - `weight(layer, w, kind)`: the weight a conv or linear layer multiplies with (fake quantisation
 *   of weights with a straight-through estimator);
 * - `input(layer, x, kind)`: the activation entering a conv or linear layer (activation quantisation);
 * - `batchNorm(layer, mean, variance)`: the batch statistics of a batch-norm layer's input, also in
 *   eval mode (DeepInversion's statistic-matching loss);
 * - `keepRunningStats`: training-mode batch norm normalises with the batch's statistics but leaves
 *   the running statistics alone (batches unlike the data the model is evaluated on, such as a
 *   generator's images beside real ones).
 * Tensors a hook creates live in the forward pass's tidy scope: a hook that hands a tensor out of
 * the forward pass (e.g. into an array the caller reads afterwards) must `tf.keep` it, and the caller disposes it.
 */
import type { tf } from '@kdbench/engine';

export type HookedLayer = 'conv' | 'linear';

export interface ForwardHooks {
  weight?(layer: string, w: tf.Tensor, kind: HookedLayer): tf.Tensor;
  input?(layer: string, x: tf.Tensor, kind: HookedLayer): tf.Tensor;
  batchNorm?(layer: string, mean: tf.Tensor1D, variance: tf.Tensor1D): void;
  readonly keepRunningStats?: boolean;
}

let active: ForwardHooks | undefined;

/** The hooks of the forward pass being run, if any. */
export function activeHooks(): ForwardHooks | undefined {
  return active;
}

/** Runs `fn` with `hooks` active (restoring the previous ones afterwards, also on throw). */
export function withHooks<T>(hooks: ForwardHooks | undefined, fn: () => T): T {
  const previous = active;
  active = hooks;
  try {
    return fn();
  } finally {
    active = previous;
  }
}
