/**
 * Helpers for unit tests of methods with their own networks and procedures (online, self and other
 * families): a real tiny resnet8 student and context, a fixed batch, a lazily-forwarding StepIO, loss
 * values, a gradient-reach assertion, a tensor-leak count across steps, and plain-number reference
 * loops (softmax, KL, CE). Import from `@kdbench/core/testing/steps` (uses vitest's expect).
 */
import { expect } from 'vitest';
import { methodContext, type Hyper, type LossTerms, type MethodContext, type MethodDefinition, type MethodInstance, type StepIO } from '../index.js';
import { afterStepOf } from './instance.js';

export * from './instance.js';
import { Rng, tf } from '@kdbench/engine';
import { createModel, type Model } from '@kdbench/models';

export const value = (x: tf.Tensor): number => x.dataSync()[0]!;

/** A resnet8 student (width 0.25, 10 classes) and a method context over a fake split of n records (label i % 10). */
export function realContext<H extends Hyper>(def: MethodDefinition<H>, over: Partial<H> = {}, opts: { n?: number; epochs?: number; seed?: number; student?: string } = {}) {
  const student = createModel(opts.student ?? 'resnet8', { numClasses: 10, seed: opts.seed ?? 0, widthFactor: 0.25 });
  const ids = Int32Array.from({ length: opts.n ?? 20 }, (_, i) => i);
  const ctx: MethodContext<H> = methodContext({
    hp: { ...def.defaults, ...over } as H, numClasses: 10, student, train: { images: new Uint8Array(0), ids, labels: ids.map((i) => i % 10), n: ids.length },
    epochs: opts.epochs ?? 8, batchSize: 4, rng: new Rng(opts.seed ?? 0),
  });
  return { ctx, student };
}

/** A fixed batch of 4 random images and labels [1, 4, 1, 7]. */
export function batch(seed = 0): { x: tf.Tensor4D; labels: tf.Tensor1D } {
  return { x: tf.randomNormal([4, 32, 32, 3], 0, 1, 'float32', seed) as tf.Tensor4D, labels: tf.tensor1d([1, 4, 1, 7], 'int32') };
}

/** A StepIO whose student forward (training mode) runs on first read, like the trainer's. */
export function stepIO(student: Model, b: { x: tf.Tensor4D; labels: tf.Tensor1D }, extra: Partial<StepIO> = {}): StepIO {
  let out: ReturnType<Model['forward']> | undefined;
  return {
    x: b.x, labels: b.labels, ids: new Int32Array([0, 1, 2, 3]), epoch: 0, progress: 0.5, step: 0, stage: 'main',
    get student() {
      return (out ??= student.forward(b.x, { training: true }));
    },
    ...extra,
  } as StepIO;
}

/** Loss-term values of one call. */
export function termValues(f: () => LossTerms): Record<string, number> {
  return tf.tidy(() => Object.fromEntries(Object.entries(f()).map(([k, v]) => [k, value(v)])));
}

/** Every variable in `vars` gets a non-zero gradient from the summed terms. */
export function expectGradients(f: () => LossTerms, vars: tf.Variable[], what: string): void {
  expect(vars.length, `${what}: variables`).toBeGreaterThan(0);
  tf.tidy(() => {
    const { grads } = tf.variableGrads(() => tf.addN(Object.values(f())) as tf.Scalar, vars);
    const zero = vars.filter((v) => !grads[v.name] || tf.max(tf.abs(grads[v.name]!)).dataSync()[0] === 0);
    expect(zero.length, `${what}: ${zero.length}/${vars.length} variables without gradient`).toBe(0);
  });
}

/** Tensors left over by `n` calls of `f` inside tidy (with afterStep), after one warm-up call. */
export function leakOf(inst: MethodInstance, f: () => LossTerms, n = 3): number {
  tf.tidy(() => { tf.addN(Object.values(f())).dataSync(); });
  const before = tf.memory().numTensors;
  for (let i = 0; i < n; i++) {
    tf.tidy(() => { tf.addN(Object.values(f())).dataSync(); });
    afterStepOf(inst);
  }
  return tf.memory().numTensors - before;
}

/** Reference loops on plain numbers. */
export const ref = {
  softmax(z: number[], T = 1): number[] {
    const m = Math.max(...z.map((v) => v / T));
    const e = z.map((v) => Math.exp(v / T - m));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / s);
  },
  /** KL(p || q) of two probability rows. */
  kl(p: number[], q: number[]): number {
    return p.reduce((acc, pi, i) => acc + (pi > 0 ? pi * Math.log(pi / q[i]!) : 0), 0);
  },
  /** -log softmax(z)[y]. */
  ce(z: number[], y: number): number {
    return -Math.log(ref.softmax(z)[y]!);
  },
  rows(t: tf.Tensor): number[][] {
    return t.arraySync() as number[][];
  },
  mean(xs: number[]): number {
    return xs.reduce((a, b) => a + b, 0) / xs.length;
  },
};

