/**
 * Training checkpoints: every trained variable, the optimisers' slots and the loop's position,
 * history, in one tensor file written atomically after each epoch.
 */
import { existsSync } from 'node:fs';
import { readTensorFile, tf, writeTensorFile, type TensorEntry } from '@kdbench/engine';
import type { Accuracy } from '../method.js';
import type { EpochRecord } from './trainer.js';
import type { TrainingStage } from '../method.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { VariableNames } from './variable-names.js';

export interface CheckpointState {
  /** Where to continue: stage index and 0-based epoch within it. */
  stage: number;
  epoch: number;
  history: EpochRecord[];
  best: (Accuracy & { epoch: number }) | null;
  trainSeconds: number;
  wallSeconds: number;
}

/** Optimisers by checkpoint prefix: the student's SGD under 'momentum/', players under 'opt/<name>/'. */
export type OptimizerSlots = Record<string, Optimizer>;

interface Meta {
  kind: 'kdbench-checkpoint';
  state: CheckpointState;
  stages: string[];
}

export function saveCheckpoint(file: string, state: CheckpointState, names: VariableNames, optimizers: OptimizerSlots): void {
  const entries: TensorEntry[] = [
    ...names.all.map(({ name, variable }) => entry(name, variable)),
    ...Object.entries(optimizers).flatMap(([prefix, opt]) => opt.state(prefix, names.nameOf).map(({ name, variable }) => entry(name, variable))),
  ];
  writeTensorFile(file, { kind: 'kdbench-checkpoint', state, stages: [] } satisfies Meta, entries);
}

/** Restores variables and momentum in place; returns the saved loop state, or null without a file. */
export function loadCheckpoint(file: string, names: VariableNames, optimizers: OptimizerSlots, stages: TrainingStage[]): CheckpointState | null {
  if (!existsSync(file)) return null;
  const ckpt = readTensorFile<Meta>(file);
  if (ckpt.meta?.kind !== 'kdbench-checkpoint') throw new Error(`${file}: not a kdbench checkpoint`);
  if (ckpt.meta.state.stage > stages.length) throw new Error(`${file}: checkpoint has more stages than this method`);
  for (const { name, variable } of names.all) {
    const saved = ckpt.tensors.get(name);
    if (!saved) throw new Error(`${file}: checkpoint lacks '${name}' (written by a different model or method?)`);
    if (saved.shape.join('x') !== variable.shape.join('x')) {
      throw new Error(`${file}: '${name}' has shape [${saved.shape}] in the checkpoint, [${variable.shape}] in the run`);
    }
    tf.tidy(() => variable.assign(tf.tensor(saved.values, saved.shape)));
  }
  const prefixes = Object.keys(optimizers);
  const slots = new Map<string, tf.Tensor>();
  for (const [name, e] of ckpt.tensors) if (prefixes.some((p) => name.startsWith(p))) slots.set(name, tf.tensor(e.values, e.shape));
  for (const [prefix, opt] of Object.entries(optimizers)) opt.load(prefix, names.all.map((n) => n.variable), names.nameOf, slots);
  tf.dispose([...slots.values()]);
  return ckpt.meta.state;
}

function entry(name: string, v: tf.Variable): TensorEntry {
  return { name, shape: v.shape, values: v.dataSync() as Float32Array };
}
