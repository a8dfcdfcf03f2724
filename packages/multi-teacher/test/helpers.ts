/** Test helpers: hand-made teachers and forward results, contexts with extra teachers, step inputs. */
import { methodContext, type Hyper, type MethodContext, type MethodDefinition, type StepIO } from '@kdbench/core';
import { fakeSplit } from '@kdbench/core/testing';
import { Rng, tf } from '@kdbench/engine';
import { createModel, type ForwardResult, type Model } from '@kdbench/models';

/** A forward result with the given logits (and feature maps, stem first). */
export function out(logits: number[][], features: tf.Tensor4D[] = []): ForwardResult {
  const l = tf.tensor2d(logits);
  return {
    logits: l,
    features: features.map((f, i) => ({ name: i === 0 ? 'stem' : `stage${i}`, pre: f, post: f })),
    embedding: l,
  };
}

/** A model stand-in that only has an id and options (for ensembles assembled from hand-made outputs). */
export function stub(id: string, seed: number, widthFactor = 0.25): Model {
  return { id, options: { numClasses: 3, seed, widthFactor } } as unknown as Model;
}

/** A context for hand-made outputs: `teacher` and `teachers` are stand-ins, the student has no features. */
export function stubContext<H extends Hyper>(def: MethodDefinition<H>, over: Partial<H>, teacher: Model, teachers: Model[], seed = 0): MethodContext<H> {
  const train = fakeSplit(12, 3);
  return {
    hp: { ...def.defaults, ...over }, dataset: 'cifar10', numClasses: 3, student: { trainableVariables: () => [] } as unknown as Model,
    teacher, teachers, studentShapes: [], teacherShapes: [], trainSize: train.n, trainIds: train.ids, trainLabels: train.labels,
    epochs: 4, batchSize: 2, rng: new Rng(seed),
    createNetwork: () => { throw new Error('not in this test'); },
    probe: () => { throw new Error('not in this test'); },
  };
}

/** A step of hand-made outputs. */
export function step(student: ForwardResult, teacher: ForwardResult, teachers: ForwardResult[], labels: number[], epoch = 0): StepIO<'required'> {
  return {
    x: tf.zeros([labels.length, 32, 32, 3]) as tf.Tensor4D, labels: tf.tensor1d(labels, 'int32'), ids: new Int32Array(labels.length),
    student, teacher, teachers, epoch, progress: 0, step: 0, stage: 'main',
  };
}

/** Real tiny networks: a resnet8 student and resnet14 teachers (seeds 100, 101, ...), width 0.25. */
export function realNetworks(teachers = 3): { student: Model; teacher: Model; extra: Model[] } {
  const student = createModel('resnet8', { numClasses: 10, seed: 0, widthFactor: 0.25 });
  const all = Array.from({ length: teachers }, (_, k) => createModel('resnet14', { numClasses: 10, seed: 100 + k, widthFactor: 0.25 }));
  return { student, teacher: all[0]!, extra: all.slice(1) };
}

/** Method context on real networks (a fake split of 20 records). */
export function realContext<H extends Hyper>(def: MethodDefinition<H>, nets: { student: Model; teacher: Model; extra: Model[] }, over: Partial<H> = {}): MethodContext<H> {
  return methodContext({
    hp: { ...def.defaults, ...over }, numClasses: 10, student: nets.student, teacher: nets.teacher, teachers: nets.extra,
    train: fakeSplit(20, 10), epochs: 4, batchSize: 2, rng: new Rng(3),
  });
}

/** A step on real networks: every forward pass of the batch x. */
export function realStep(nets: { student: Model; teacher: Model; extra: Model[] }, x: tf.Tensor4D, labels: number[]): StepIO {
  return {
    x, labels: tf.tensor1d(labels, 'int32'), ids: new Int32Array(labels.length),
    student: nets.student.forward(x, { training: true }),
    teacher: nets.teacher.forward(x, { training: false }),
    teachers: nets.extra.map((m) => m.forward(x, { training: false })),
    epoch: 0, progress: 0, step: 0, stage: 'main',
  };
}

export const value = (t: tf.Tensor): number => t.dataSync()[0]!;

/** softmax(z / T) by a plain loop. */
export function softmaxLoop(z: number[], T = 1): number[] {
  const m = Math.max(...z.map((v) => v / T));
  const e = z.map((v) => Math.exp(v / T - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** sum_c p_c (log p_c - log q_c) by a plain loop. */
export function klLoop(p: number[], q: number[]): number {
  return p.reduce((s, pc, c) => s + (pc > 0 ? pc * (Math.log(pc) - Math.log(q[c]!)) : 0), 0);
}
