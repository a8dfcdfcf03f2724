/**
 * Test helpers: a context and step inputs that throw on any read of the training split (images,
 * record ids, labels), and a stand-in for the trainer's step (synthetic batch, each player's Adam
 * steps, then the student's SGD step), so the procedure is tested without the trainer.
 */
import { Adam, methodContext, Sgd, type Hyper, type LossTerms, type MethodDefinition, type MethodInstance, type StepIO } from '@kdbench/core';
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

export interface Stepper {
  step(epoch: number, step: number): Record<string, number>;
  dispose(): void;
}

/** The trainer's order for one batch of a data-free method: syntheticBatch, players, student. */
export function stepper(inst: MethodInstance, student: Model, teacher: Model, batch: number): Stepper {
  const players = inst.players ?? [];
  const adams = players.map((p) => {
    if (p.optimizer.kind !== 'adam') throw new Error('test stepper: adam players only');
    return new Adam({ beta1: p.optimizer.beta1, beta2: p.optimizer.beta2 });
  });
  const sgd = new Sgd({ momentum: 0.9, weightDecay: 5e-4 });
  return {
    step(epoch, step) {
      const out: Record<string, number> = {};
      const x = tf.tidy(() => inst.syntheticBatch!(batch, epoch, step));
      tf.tidy(() => {
        const t = teacher.forward(x, { training: false });
        const io = () => guardedIO(x, student, t, epoch, step);
        players.forEach((p, i) => {
          for (let k = 0; k < (p.stepsPerBatch ?? 1); k++) {
            const vars = p.variables();
            const terms = optimize(vars, () => p.losses(io()), (g) => adams[i]!.apply(p.optimizer.lr, vars, g));
            for (const [name, v] of Object.entries(terms)) out[`${p.name}/${name}`] = v;
          }
        });
        const vars = student.trainableVariables();
        Object.assign(out, optimize(vars, () => inst.losses(io()), (g) => sgd.apply(0.05, vars, g)));
      });
      x.dispose();
      inst.afterStep?.();
      return out;
    },
    dispose() {
      adams.forEach((a) => a.dispose());
      sgd.dispose();
    },
  };
}

/** Copies of the variables' values (to check which ones moved). */
export const snapshot = (vars: tf.Variable[]) => vars.map((v) => v.dataSync().slice());
export const moved = (vars: tf.Variable[], before: ArrayLike<number>[]) =>
  vars.filter((v, i) => v.dataSync().some((x, k) => x !== before[i]![k])).length;
