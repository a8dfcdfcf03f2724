/**
 * Hand-made inputs for loss tests of offline feature and relation methods: forward results from
 * given tensors, method contexts and step inputs around them, leak and gradient checks, metadata
 * checks. Import from `@kdbench/core/testing/handmade` (the relation and graph families use it).
 */
import { expect } from 'vitest';
import { methodContext, type Hyper, type LossTerms, type MethodContext, type MethodDefinition, type MethodInstance, type StepIO } from '../index.js';
import { Rng, tf } from '@kdbench/engine';
import type { FeatureShape, ForwardResult, Model } from '@kdbench/models';
import { afterStepOf } from './instance.js';

export function forward(opts: { logits?: tf.Tensor2D; features?: tf.Tensor4D[]; embedding?: tf.Tensor2D }): ForwardResult {
  const features = (opts.features ?? []).map((f, i) => ({ name: i === 0 ? 'stem' : `stage${i}`, pre: f, post: f }));
  const embedding = opts.embedding ?? (features.length ? (tf.mean(features[features.length - 1]!.post, [1, 2]) as tf.Tensor2D) : opts.logits!);
  return { logits: opts.logits ?? tf.zeros([embedding.shape[0], 3]), features, embedding };
}

export function shapesOf(out: ForwardResult): FeatureShape[] {
  return [
    ...out.features.map((f) => ({ name: f.name, channels: f.post.shape[3], height: f.post.shape[1], width: f.post.shape[2] })),
    { name: 'embedding', channels: out.embedding.shape[1], height: 1, width: 1 },
  ];
}

/**
 * A method context through core's methodContext: a fake training split of `trainSize` records
 * (ids 0..n-1 unless `trainIds` is given, labels i % numClasses unless `trainLabels` is given),
 * hand-made shapes for student and teacher; any other field of `extra` overrides the result.
 */
export function context<H extends Hyper>(
  def: MethodDefinition<H, 'required'>,
  s: ForwardResult,
  t: ForwardResult,
  extra: Partial<MethodContext<H, 'required'>> = {},
): MethodContext<H, 'required'> {
  const numClasses = extra.numClasses ?? s.logits.shape[1];
  const ids = extra.trainIds ?? Int32Array.from({ length: extra.trainSize ?? 16 }, (_, i) => i);
  const labels = extra.trainLabels ?? Int32Array.from(ids, (_, i) => i % numClasses);
  const student = { trainableVariables: () => [], featureShapes: () => shapesOf(s) } as unknown as Model;
  const ctx = methodContext({
    hp: def.defaults, numClasses, student, train: { images: new Uint8Array(0), ids, labels, n: ids.length },
    epochs: 240, batchSize: s.logits.shape[0], rng: new Rng(0),
  });
  const teacher = { trainableVariables: () => [], featureShapes: () => shapesOf(t) } as unknown as Model;
  return { ...ctx, teacher, teacherShapes: shapesOf(t), ...extra };
}

export function io(s: ForwardResult, t: ForwardResult, ids?: number[]): StepIO<'required'> {
  const b = s.logits.shape[0];
  return {
    x: tf.zeros([b, 1, 1, 1]) as tf.Tensor4D,
    labels: tf.tensor1d(Array.from({ length: b }, (_, i) => i % s.logits.shape[1]), 'int32'),
    ids: new Int32Array(ids ?? Array.from({ length: b }, (_, i) => i)),
    student: s,
    teacher: t,
    epoch: 0,
    progress: 0, step: 0, stage: 'main',
  };
}

export const value = (x: tf.Tensor) => x.dataSync()[0]!;

/** Runs losses (+ afterStep) `n` times inside tidy and checks the live tensor count stays flat. */
export function expectNoLeak(inst: MethodInstance, makeIo: () => StepIO, n = 3): void {
  const counts: number[] = [];
  for (let i = 0; i < n; i++) {
    tf.tidy(() => {
      const terms: LossTerms = inst.losses(makeIo());
      tf.addN(Object.values(terms)).dataSync();
    });
    afterStepOf(inst);
    counts.push(tf.memory().numTensors);
  }
  expect(new Set(counts).size).toBe(1);
}

/** Gradients of the summed loss terms with respect to `vars`: every one must be non-zero somewhere. */
export function expectGradients(f: () => LossTerms, vars: tf.Variable[]): void {
  tf.tidy(() => {
    const { grads } = tf.variableGrads(() => tf.addN(Object.values(f())) as tf.Scalar, vars);
    for (const v of vars) {
      const g = grads[v.name];
      expect(g, `gradient of ${v.name}`).toBeDefined();
      expect(tf.max(tf.abs(g!)).dataSync()[0]!).toBeGreaterThan(0);
    }
  });
}

/** Deterministic pseudo-random values for hand-made tensors. */
export function values(n: number, seed: number): number[] {
  const r = new Rng(seed);
  return Array.from({ length: n }, () => r.normal());
}

/** The metadata of an offline, teacher-required, relation-knowledge method of `family`. */
export function expectRelationMetadata(def: MethodDefinition<Hyper>, defaults: Hyper, urlPart: string, family: string): void {
  expect(def.defaults).toEqual(defaults);
  expect(def.paper?.url).toContain(urlPart);
  expect(def.paper?.authors.length).toBeGreaterThan(0);
  expect(def.paper?.year).toBeGreaterThan(2000);
  expect(def.family).toBe(family);
  expect(def.knowledge).toBe('relation');
  expect(def.scheme).toBe('offline');
  expect(def.teacher).toBe('required');
  expect(Object.keys(def.hyperDocs).sort()).toEqual(Object.keys(def.defaults).sort());
}
