/** Test helpers: hand-made contexts, and a stand-in for the trainer's step (each player's step with its own optimiser, then the student's SGD step). */
import { makeOptimizer, Sgd, type Hyper, type LossTerms, type MethodContext, type MethodDefinition, type MethodInstance, type StepIO } from '@kdbench/core';
import { Rng, tf } from '@kdbench/engine';
import type { FeatureShape, ForwardResult, Model } from '@kdbench/models';

export function shapesOf(out: ForwardResult): FeatureShape[] {
  return [
    ...out.features.map((f) => ({ name: f.name, channels: f.post.shape[3], height: f.post.shape[1], width: f.post.shape[2] })),
    { name: 'embedding', channels: out.embedding.shape[1], height: 1, width: 1 },
  ];
}

/** A context for hand-made forward results (3 classes unless the logits say otherwise). */
export function handContext<H extends Hyper>(def: MethodDefinition<H>, s: ForwardResult, t: ForwardResult, over: Partial<H> = {}): MethodContext<H> {
  const ids = Int32Array.from({ length: 8 }, (_, i) => i);
  return {
    hp: { ...def.defaults, ...over }, numClasses: s.logits.shape[1], student: {} as Model, teacher: {} as Model, teachers: [],
    studentShapes: shapesOf(s), teacherShapes: shapesOf(t), trainSize: 8, trainIds: ids, trainLabels: ids.map((i) => i % 3),
    epochs: 240, batchSize: s.logits.shape[0], rng: new Rng(0), dataset: 'cifar10',
    createNetwork: () => { throw new Error('handContext: no networks'); },
    probe: () => { throw new Error('handContext: no probe'); },
  };
}

export function handIO(s: ForwardResult, t: ForwardResult, labels: number[]): StepIO {
  return {
    x: tf.zeros([labels.length, 32, 32, 3]) as tf.Tensor4D, labels: tf.tensor1d(labels, 'int32'), ids: new Int32Array(labels.length),
    student: s, teacher: t, epoch: 0, progress: 0, step: 0, stage: 'main',
  };
}

/** Sets every player variable to zero (a discriminator that scores everything 0). */
export function zeroPlayers(inst: MethodInstance): void {
  for (const p of inst.players ?? []) for (const v of p.variables()) v.assign(tf.zerosLike(v));
}

export const values = (terms: LossTerms) => Object.fromEntries(Object.entries(terms).map(([k, v]) => [k, v.dataSync()[0]!]));

function optimize(vars: tf.Variable[], losses: () => LossTerms, apply: (g: Record<string, tf.Tensor>) => void): Record<string, number> {
  const out: Record<string, number> = {};
  tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => {
      const terms = losses();
      for (const [k, v] of Object.entries(terms)) out[k] = v.dataSync()[0]!;
      return tf.addN(Object.values(terms)) as tf.Scalar;
    }, vars);
    apply(grads);
    tf.dispose([value, ...Object.values(grads)]);
  });
  return out;
}

/** The variables the main stage trains: student, modules, networks trained in the main stage. */
export function mainVariables(inst: MethodInstance, student: Model): tf.Variable[] {
  return [...new Set([
    ...student.trainableVariables(),
    ...Object.values(inst.modules ?? {}).flatMap((m) => m.trainableVariables()),
    ...Object.values(inst.networks ?? {}).filter((n) => n.trainInMain).flatMap((n) => n.model.trainableVariables()),
  ])];
}

/** The trainer's order for one labeled batch: teacher forward, each player's steps, then the main step. */
export function stepper(inst: MethodInstance, student: Model, teacher: Model | undefined) {
  const players = inst.players ?? [];
  const optimizers = players.map((p) => makeOptimizer(p.optimizer));
  const sgd = new Sgd({ momentum: 0.9, weightDecay: 5e-4 });
  return {
    step(x: tf.Tensor4D, labels: tf.Tensor1D, epoch: number, step: number): Record<string, number> {
      const out: Record<string, number> = {};
      tf.tidy(() => {
        const t = teacher?.forward(x, { training: false });
        const io = (): StepIO => {
          let s: ForwardResult | undefined;
          return {
            x, labels, ids: new Int32Array(x.shape[0]), teacher: t, epoch, progress: 0, step, stage: 'main',
            get student() { return (s ??= student.forward(x, { training: true })); },
          };
        };
        players.forEach((p, i) => {
          for (let k = 0; k < (p.stepsPerBatch ?? 1); k++) {
            const vars = p.variables();
            const terms = optimize(vars, () => p.losses(io()), (g) => optimizers[i]!.apply(p.optimizer.lr, vars, g));
            for (const [name, v] of Object.entries(terms)) out[`${p.name}/${name}`] = v;
          }
        });
        const vars = mainVariables(inst, student);
        Object.assign(out, optimize(vars, () => inst.losses(io()), (g) => sgd.apply(0.05, vars, g)));
      });
      inst.afterStep?.();
      return out;
    },
    dispose() {
      optimizers.forEach((o) => o.dispose());
      sgd.dispose();
    },
  };
}

export const snapshot = (vars: tf.Variable[]) => vars.map((v) => v.dataSync().slice());
export const moved = (vars: tf.Variable[], before: ArrayLike<number>[]) =>
  vars.filter((v, i) => v.dataSync().some((x, k) => x !== before[i]![k])).length;
