/**
 * Test kit for method authors: hand-made StepIO objects and contexts (tiny tensors), a leak counter,
 * and a run of create() + losses() on real resnet8 / resnet8x4 features. Import from
 * `@kdbench/core/testing` in a method's test.
 */
import { Rng, tf } from '@kdbench/engine';
import { createModel, type FeatureShape, type ForwardResult, type Model } from '@kdbench/models';
import { PartSet, methodContext, type Hyper, type MethodContext, type MethodDefinition, type MethodInstance, type StepIO, type TeacherNeed } from '../index.js';

/** A ForwardResult whose features are the given maps (pre = post unless given), stem first. */
export function fwd(features: tf.Tensor4D[], logits?: tf.Tensor2D, pre?: tf.Tensor4D[]): ForwardResult {
  const b = features[0]!.shape[0];
  return {
    logits: logits ?? (tf.zeros([b, 3]) as tf.Tensor2D),
    features: features.map((post, i) => ({ name: i === 0 ? 'stem' : `stage${i}`, pre: pre?.[i] ?? post, post })),
    embedding: tf.zeros([b, 2]) as tf.Tensor2D,
  };
}

export function shapesOf(features: tf.Tensor4D[]): FeatureShape[] {
  return features.map((f, i) => ({ name: i === 0 ? 'stem' : `stage${i}`, height: f.shape[1], width: f.shape[2], channels: f.shape[3] }));
}

/** A fake training split of n records: ids 0..n-1, labels i % numClasses. */
export function fakeSplit(n: number, numClasses: number) {
  const ids = Int32Array.from({ length: n }, (_, i) => i);
  return { images: new Uint8Array(0), ids, labels: ids.map((i) => i % numClasses), n };
}

/** A context for hand-made features (batch size: the features' batch unless `batchSize` is given). */
export function ctxFor<H extends Hyper, T extends TeacherNeed>(
  def: MethodDefinition<H, T>, s: tf.Tensor4D[], t: tf.Tensor4D[], over: Partial<H> = {}, epochs = 240, batchSize = s[0]!.shape[0],
): MethodContext<H, T> {
  const train = fakeSplit(10, 3);
  const fake = (shapes: FeatureShape[]) => ({ trainableVariables: () => [], featureShapes: () => shapes }) as unknown as Model;
  return {
    hp: { ...def.defaults, ...over }, dataset: 'cifar10', numClasses: 3, student: fake(shapesOf(s)), teacher: fake(shapesOf(t)),
    studentShapes: [...shapesOf(s), { name: 'embedding', channels: 2, height: 1, width: 1 }], teacherShapes: shapesOf(t),
    trainSize: train.n, trainIds: train.ids, trainLabels: train.labels, epochs, batchSize, rng: new Rng(0), teachers: [],
    createNetwork: () => {
      throw new Error('ctxFor: createNetwork needs real models (use methodContext with createModel students)');
    },
    probe: () => {
      throw new Error('ctxFor: probe needs a dataset (use methodContext with a probe setting)');
    },
  };
}

export function stepIO(student: ForwardResult, teacher: ForwardResult, labels?: tf.Tensor1D): StepIO<'required'> {
  const b = student.logits.shape[0];
  return {
    x: tf.zeros([b, 32, 32, 3]) as tf.Tensor4D, labels: labels ?? (tf.zeros([b], 'int32') as tf.Tensor1D),
    ids: new Int32Array(b), student, teacher, epoch: 0, progress: 0, step: 0, stage: 'main',
  };
}

/** Deterministic pseudo-random values in [-1, 1). */
export function rand(shape: number[], seed: number): tf.Tensor {
  const r = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Array.from({ length: n }, () => 2 * r.next() - 1), shape);
}

export function value(x: tf.Tensor): number {
  return x.dataSync()[0]!;
}

/** Number of tensors left over by three calls of `fn` inside tf.tidy (should be 0). */
export function leakOf(fn: () => unknown): number {
  tf.tidy(() => { fn(); });
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) tf.tidy(() => { fn(); });
  return tf.memory().numTensors - before;
}

/**
 * Student resnet8 and teacher resnet8x4 (widths x0.25), batch 2, run through create() and losses() (and every stage);
 * the context's training batch size is `batchSize` (a batch of 2 is then a shorter last batch).
 */
export function runOnRealModels<H extends Hyper>(def: MethodDefinition<H>, over: Partial<H> = {}, batchSize = 2): Record<string, number> {
  const student = createModel('resnet8', { numClasses: 10, seed: 0, widthFactor: 0.25 });
  const teacher = createModel('resnet8x4', { numClasses: 10, seed: 1, widthFactor: 0.25 });
  const inst: MethodInstance = def.create(methodContext({
    hp: { ...def.defaults, ...over }, numClasses: 10, student, teacher, train: fakeSplit(100, 10), epochs: 8, batchSize, rng: new Rng(3),
  }));
  const out: Record<string, number> = {};
  const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 0) as tf.Tensor4D;
  const labels = tf.tensor1d([1, 4], 'int32');
  tf.tidy(() => {
    const io: StepIO<'required'> = {
      x, labels, ids: new Int32Array(2), student: student.forward(x, { training: true }),
      teacher: teacher.forward(x, { training: false }), epoch: 0, progress: 0.5, step: 0, stage: 'main',
    };
    for (const st of inst.procedure?.stages ?? []) for (const [k, v] of Object.entries(st.losses(io))) out[`${st.name}/${k}`] = value(v);
    for (const [k, v] of Object.entries(inst.losses(io))) out[k] = value(v);
  });
  tf.dispose([x, labels]);
  new PartSet(inst, student).dispose();
  student.dispose();
  teacher.dispose();
  return out;
}

export * from './conformance.js';
export * from './parity.js';
export * from './instance.js';
