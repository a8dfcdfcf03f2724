/**
 * The procedure the generator-based data-free papers share (DAFL, DFAD, ZSKT): a generator G is
 * one optimisation player (its own Adam), the student the other. Every step,
 *   1. the trainer asks `syntheticBatch` for the student's inputs: G(z) for codes z drawn from the
 *      run's Rng for (epoch, step), without gradient;
 *   2. the generator player takes its step(s) on its own loss (`generatorLosses` of G(z'));
 *   3. the student takes its step on the method's `losses` of the batch of 1.
 * With `sameCodes` the generator's first step of a batch uses the codes of the student's batch (and
 * so, before its update, the very same images): DAFL's simultaneous update of G and S on one
 * generated batch. Otherwise the generator draws fresh codes (DFAD, ZSKT alternate fresh samples).
 *
 * No training image reaches anything here: the only inputs are generated ones.
 */
import type { LossTerms, MethodContext, OptimizerSpec, StepIO } from '@kdbench/core';
import { tf, type Rng } from '@kdbench/engine';
import type { Generator } from '@kdbench/core';
import { SynthesisMeter, type DataFreeInstance } from './synthesis.js';
import { synthesisArtifact } from '../png.js';

export interface GeneratorGame {
  readonly ctx: MethodContext<any>;
  readonly generator: Generator;
  readonly optimizer: OptimizerSpec;
  /** Generator steps per student step (default 1). */
  readonly generatorSteps?: number;
  /** Student steps per generator step: the generator plays on every k-th batch (default 1). */
  readonly studentStepsPerGeneratorStep?: number;
  readonly sameCodes?: boolean;
  /** The generator's loss terms on freshly generated images (with gradient to the generator). */
  generatorLosses(images: tf.Tensor4D): LossTerms;
  /** The student's loss terms on a synthetic batch (io.student / io.teacher are on it). */
  studentLosses(io: StepIO): LossTerms;
}

export function generatorGame(g: GeneratorGame): DataFreeInstance {
  const { ctx, generator } = g;
  const meter = new SynthesisMeter();
  const rngFor = (epoch: number, label: string): Rng => ctx.rng.fork(epoch).fork(label);
  let playerKey = '';
  let playerStep = 0;
  return {
    players: [{
      name: 'generator',
      optimizer: g.optimizer,
      stepsPerBatch: g.generatorSteps ?? 1,
      every: g.studentStepsPerGeneratorStep ?? 1,
      variables: () => generator.trainableVariables(),
      losses: (io) => {
        meter.open();
        const key = `${io.epoch}:${io.step}`;
        playerStep = key === playerKey ? playerStep + 1 : 0;
        playerKey = key;
        const same = g.sameCodes === true && playerStep === 0;
        // DAFL: the student's images (same codes, same weights); otherwise a fresh full batch
        const n = Math.max(2, same ? io.ids.length : ctx.batchSize);
        if (!same) meter.count(n);
        const rng = rngFor(io.epoch, same ? `student:${io.step}` : `generator:${io.step}:${playerStep}`);
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
    losses: (io) => {
      meter.close();
      return g.studentLosses(io);
    },
    synthesisSamples: (n) => generator.sample(ctx.rng.fork('synthesis-grid'), Math.max(2, n)),
    artifacts(dir) {
      return [synthesisArtifact(this, dir, ctx.dataset)];
    },
    buffers: () => ({ synthesis: meter.counts }),
    extraAccuracies: () => meter.report(),
    dispose: () => {
      generator.dispose();
      meter.dispose();
    },
  };
}
