/** Test helpers: hand-made contexts and steps, and weight snapshots. The trainer's step itself is core's (batchStepper). */
import type { Hyper, LossTerms, MethodContext, MethodDefinition, MethodInstance, StepIO } from '@kdbench/core';
import { Rng, tf } from '@kdbench/engine';
import type { FeatureShape, ForwardResult, Model } from '@kdbench/models';

export function shapesOf(out: ForwardResult): FeatureShape[] {
  return [
    ...out.features.map((f) => ({ name: f.name, channels: f.post.shape[3], height: f.post.shape[1], width: f.post.shape[2] })),
    { name: 'embedding', channels: out.embedding.shape[1], height: 1, width: 1 },
  ];
}

/** A context for hand-made forward results (3 classes unless the logits say otherwise). */
export function handContext<H extends Hyper>(def: MethodDefinition<H, 'required'>, s: ForwardResult, t: ForwardResult, over: Partial<H> = {}): MethodContext<H, 'required'> {
  const ids = Int32Array.from({ length: 8 }, (_, i) => i);
  return {
    hp: { ...def.defaults, ...over }, numClasses: s.logits.shape[1], student: {} as Model, teacher: {} as Model, teachers: [],
    studentShapes: shapesOf(s), teacherShapes: shapesOf(t), trainSize: 8, trainIds: ids, trainLabels: ids.map((i) => i % 3),
    epochs: 240, batchSize: s.logits.shape[0], rng: new Rng(0), dataset: 'cifar10',
    createNetwork: () => { throw new Error('handContext: no networks'); },
    probe: () => { throw new Error('handContext: no probe'); },
  };
}

export function handIO(s: ForwardResult, t: ForwardResult, labels: number[]): StepIO<'required'> {
  return {
    x: tf.zeros([labels.length, 32, 32, 3]) as tf.Tensor4D, labels: tf.tensor1d(labels, 'int32'), ids: new Int32Array(labels.length),
    student: s, teacher: t, epoch: 0, progress: 0, step: 0, stage: 'main',
  };
}

/** Sets every player variable to zero (a discriminator that scores everything 0). */
export function zeroPlayers(inst: MethodInstance): void {
  for (const p of inst.procedure!.players ?? []) for (const v of p.variables()) v.assign(tf.zerosLike(v));
}

export const values = (terms: LossTerms) => Object.fromEntries(Object.entries(terms).map(([k, v]) => [k, v.dataSync()[0]!]));

export const snapshot = (vars: tf.Variable[]) => vars.map((v) => v.dataSync().slice());
export const moved = (vars: tf.Variable[], before: ArrayLike<number>[]) =>
  vars.filter((v, i) => v.dataSync().some((x, k) => x !== before[i]![k])).length;
