/** Test helpers that read a method instance's parts and procedure the way the trainer does. */
import { tf } from '@kdbench/engine';
import type { Model } from '@kdbench/models';
import {
  PartSet, Sgd, makeOptimizer, trainStep, type DataAccess, type Evaluate, type MethodInstance, type StepIO, type TeacherNeed, type TrainingStage,
} from '../index.js';

export { disposeInstance } from '../training/parts.js';

/** The trainable variables of a method's part (throws when the part has none). */
export function varsOf(inst: MethodInstance, part: string): tf.Variable[] {
  const p = inst.parts?.[part];
  if (!p?.trainableVariables) throw new Error(`the method has no trainable part '${part}' (parts: ${Object.keys(inst.parts ?? {}).join(', ')})`);
  return p.trainableVariables();
}

/** The stages a method runs before its main stage. */
export function stagesOf<T extends TeacherNeed>(inst: MethodInstance<T>): TrainingStage<T>[] {
  return inst.procedure?.stages ?? [];
}

/** Every part's metrics (evaluated with `evaluate`), merged, as the trainer reports them. */
export function metricsOf(inst: MethodInstance, evaluate: Evaluate): Record<string, number> {
  return new PartSet(inst).metrics(evaluate);
}

/** Every part's buffers by name. */
export function buffersOf(inst: MethodInstance): Record<string, tf.Variable> {
  return new PartSet(inst).buffers();
}

/** Calls every part's afterStep, as the trainer does after an optimiser step. */
export function afterStepOf(inst: MethodInstance): void {
  new PartSet(inst).afterStep();
}

/** Calls every part's onEpochStart. */
export function epochStartOf(inst: MethodInstance, epoch: number): void {
  new PartSet(inst).onEpochStart(epoch);
}

/** Every part's artifacts written into `dir`, as the trainer collects them after training. */
export function artifactsOf(inst: MethodInstance, dir: string): string[] {
  return new PartSet(inst).artifacts(dir);
}

export interface BatchStepper {
  /** One trainer step on a batch (`labels` undefined: a data-free method's synthetic batch); the logged values. */
  step(batch: { x: tf.Tensor4D; labels?: tf.Tensor1D; ids?: Int32Array }, epoch: number, step: number): Record<string, number>;
  /** The step of a data-free method: its syntheticBatch of `size` rows, then the players and the student. */
  syntheticStep(size: number, epoch: number, step: number): Record<string, number>;
  dispose(): void;
}

/**
 * The trainer's step (training/step.ts) on a method instance outside the trainer: the teacher's
 * forward pass, each player's step with its own optimiser (every `every`-th batch), then the
 * main-stage SGD step (momentum 0.9, weight decay 5e-4, rate `lr`) over the student, the parts'
 * trainable variables and the networks trained in main, then the parts' afterStep.
 */
export function batchStepper(inst: MethodInstance, student: Model, teacher?: Model, opts: { lr?: number; data?: DataAccess } = {}): BatchStepper {
  const parts = new PartSet(inst, student);
  const players = parts.players.map((player) => ({ player, optimizer: makeOptimizer(player.optimizer) }));
  const sgd = new Sgd({ momentum: 0.9, weightDecay: 5e-4 });
  const vars = parts.mainVariables();
  const run = (batch: { x: tf.Tensor4D; labels?: tf.Tensor1D; ids?: Int32Array }, epoch: number, step: number, data: DataAccess) => trainStep({
    student: parts.student, teacher, data,
    stage: { name: "stage 'main'", stageName: 'main', variables: () => vars, losses: (io) => inst.losses(io), optimizer: sgd, lr: opts.lr ?? 0.05 },
    players: players.map(({ player, optimizer }) => ({
      name: `player '${player.name}'`, player, variables: () => player.variables(), losses: (io: StepIO) => player.losses(io), optimizer, lr: player.optimizer.lr,
    })),
    afterStep: () => parts.afterStep(),
  }, { x: batch.x, labels: batch.labels, ids: batch.ids ?? new Int32Array(batch.x.shape[0]), step, epoch, progress: 0 });
  return {
    step: (batch, epoch, step) => run(batch, epoch, step, opts.data ?? 'labeled'),
    syntheticStep: (size, epoch, step) => {
      const x = tf.tidy(() => inst.procedure!.syntheticBatch!(size, epoch, step));
      try {
        return run({ x, ids: new Int32Array(size).fill(-1) }, epoch, step, 'none');
      } finally {
        x.dispose();
      }
    },
    dispose: () => {
      sgd.dispose();
      players.forEach((p) => p.optimizer.dispose());
    },
  };
}
