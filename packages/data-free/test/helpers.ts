/**
 * Test helpers: a context and step inputs that throw on any read of the training split (images,
 * record ids, labels). The procedure runs through core's trainer step (batchStepper).
 */
import { methodContext, type Hyper, type MethodDefinition, type StepIO } from '@kdbench/core';
import type { RawSplit } from '@kdbench/data';
import { Rng, tf } from '@kdbench/engine';
import type { ForwardResult, Model } from '@kdbench/models';

const forbidden = (what: string): never => {
  throw new Error(`test: a data-free method read ${what} of the training split`);
};

/** A training split of n records whose images, ids and labels throw when read. */
export function guardedSplit(n: number): RawSplit {
  return {
    n,
    get images(): Uint8Array { return forbidden('the images'); },
    get ids(): Int32Array { return forbidden('the record ids'); },
    get labels(): Int32Array { return forbidden('the labels'); },
  };
}

export function guardedContext<H extends Hyper>(def: MethodDefinition<H>, student: Model, teacher: Model, batchSize: number, seed = 5) {
  const ctx = methodContext({
    hp: { ...def.defaults, ...def.smallHyper }, numClasses: 10, student, teacher, train: guardedSplit(4 * batchSize),
    epochs: 2, batchSize, rng: new Rng(seed), data: 'none',
  });
  expect_throws(() => ctx.trainIds);
  expect_throws(() => ctx.trainLabels);
  return ctx;
}

function expect_throws(f: () => unknown): void {
  let threw = false;
  try { f(); } catch { threw = true; }
  if (!threw) throw new Error('test setup: the guarded context let a read through');
}

/** A StepIO on a synthetic batch whose x and labels throw (a data-free method reads only the forward passes). */
export function guardedIO(x: tf.Tensor4D, student: Model, teacher: ForwardResult, epoch: number, step: number): StepIO {
  let s: ForwardResult | undefined;
  return {
    get x(): tf.Tensor4D { return forbidden('io.x'); },
    get labels(): tf.Tensor1D { return forbidden('io.labels'); },
    ids: new Int32Array(x.shape[0]).fill(-1),
    get student() { return (s ??= student.forward(x, { training: true })); },
    teacher,
    epoch, progress: 0, step, stage: 'main',
  };
}

/** Copies of the variables' values (to check which ones moved). */
export const snapshot = (vars: tf.Variable[]) => vars.map((v) => v.dataSync().slice());
export const moved = (vars: tf.Variable[], before: ArrayLike<number>[]) =>
  vars.filter((v, i) => v.dataSync().some((x, k) => x !== before[i]![k])).length;
