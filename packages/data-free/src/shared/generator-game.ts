/**
 * The procedure the generator-based data-free papers share (DAFL, DFAD, ZSKT): a generator G is
 * one optimisation player (its own Adam, betas 0.9 / 0.999, rate `lrG`), the student the other. Every step,
 *   1. the trainer asks `syntheticBatch` for the student's inputs: G(z) for codes z drawn from the
 *      run's Rng for (epoch, step), without gradient;
 *   2. the generator player takes its step on its own loss (`generatorLosses` of G(z')), on every
 *      batch or on every k-th one (`studentStepsPerGeneratorStep`);
 *   3. the student takes its step on the method's `losses` of the batch of 1.
 * With `sameCodes` the generator's step uses the codes of the student's batch (and so, before its
 * update, the very same images): DAFL's simultaneous update of G and S on one generated batch.
 * Otherwise the generator draws fresh codes (DFAD, ZSKT alternate fresh samples).
 *
 * No training image reaches anything here: the only inputs are generated ones.
 */
import { Generator, moduleSeed, owning, type LossTerms, type MethodContext, type MethodInstance, type StepIO } from '@kdbench/core';
import { tf, type Rng } from '@kdbench/engine';
import { Synthesis } from './synthesis.js';

/** The hyperparameters every generator game reads: the generator's latent size and width, its rate. */
export interface GeneratorHyper {
  latent: number;
  width: number;
  lrG: number;
  [k: string]: number | string | boolean;
}

export interface GeneratorGame {
  /** Generator options beyond latent and width (the output activation, batch-norm epsilon). */
  readonly generator?: { tanh?: boolean; bnEps?: number };
  /** Anneal the generator's rate with the protocol's schedule. */
  readonly schedule?: boolean;
  /** Student steps per generator step: the generator plays on every k-th batch (default 1). */
  readonly studentStepsPerGeneratorStep?: number;
  readonly sameCodes?: boolean;
  /** The generator's loss terms on freshly generated images (with gradient to the generator). */
  generatorLosses(images: tf.Tensor4D): LossTerms;
  /** The student's loss terms on a synthetic batch (io.student / io.teacher are on it). */
  studentLosses(io: StepIO<'required'>): LossTerms;
}

export function generatorGame(ctx: MethodContext<GeneratorHyper, 'required'>, g: GeneratorGame): MethodInstance<'required'> {
  const { hp } = ctx;
  const generator = new Generator(moduleSeed(ctx.rng, 'generator'), { latent: hp.latent, width: hp.width, ...g.generator });
  const synthesis = new Synthesis({ samples: (n) => generator.sample(ctx.rng.fork('synthesis-grid'), Math.max(2, n)), dataset: ctx.dataset });
  const meter = synthesis.meter;
  const rngFor = (epoch: number, label: string): Rng => ctx.rng.fork(epoch).fork(label);
  return {
    parts: { synthesis, generator: owning(generator) },
    procedure: {
      players: [{
        name: 'generator',
        optimizer: { kind: 'adam', lr: hp.lrG, beta1: 0.9, beta2: 0.999, ...(g.schedule ? { schedule: true } : {}) },
        every: g.studentStepsPerGeneratorStep ?? 1,
        variables: () => generator.trainableVariables(),
        losses: (io) => {
          meter.open();
          const same = g.sameCodes === true;
          // DAFL: the student's images (same codes, same weights); otherwise a fresh full batch
          const n = Math.max(2, same ? io.ids.length : ctx.batchSize);
          if (!same) meter.count(n);
          const rng = rngFor(io.epoch, same ? `student:${io.step}` : `generator:${io.step}:0`); // ':0': the player's one step of the batch
          return g.generatorLosses(generator.sample(rng, n));
        },
      }],
      syntheticBatch: (size, epoch, step) => {
        meter.close();
        // the generator's batch norms need two rows: a last batch of one is cut from two
        return meter.time(size, () => tf.tidy(() => {
          const x = generator.sample(rngFor(epoch, `student:${step}`), Math.max(2, size));
          return size < 2 ? (tf.slice(x, 0, size) as tf.Tensor4D) : x;
        }));
      },
    },
    losses: (io) => {
      meter.close();
      return g.studentLosses(io);
    },
  };
}
