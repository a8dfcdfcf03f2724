/**
 * Training checkpoints: every trained variable, the optimiser's momentum and the loop's position
 * and history, in one tensor file written atomically after each epoch.
 */
import { existsSync } from 'node:fs';
import { readTensorFile, tf, writeTensorFile, type TensorEntry } from '@kdbench/engine';
import type { Accuracy } from './evaluate.js';
import type { EpochRecord } from './trainer.js';
import type { TrainingStage } from '../method.js';
import type { Sgd } from '../optim/sgd.js';
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

interface Meta {
  kind: 'kdbench-checkpoint';
  state: CheckpointState;
  stages: string[];
}

export function saveCheckpoint(file: string, state: CheckpointState, names: VariableNames, sgd: Sgd): void {
  const entries: TensorEntry[] = [
    ...names.all.map(({ name, variable }) => entry(name, variable)),
    ...sgd.state((w) => `momentum/${names.nameOf(w)}`).map(({ name, variable }) => entry(name, variable)),
  ];
  writeTensorFile(file, { kind: 'kdbench-checkpoint', state, stages: [] } satisfies Meta, entries);
}

/** Restores variables and momentum in place; returns the saved loop state, or null without a file. */
export function loadCheckpoint(file: string, names: VariableNames, sgd: Sgd, stages: TrainingStage[]): CheckpointState | null {
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
  const momenta = new Map<string, tf.Tensor>();
  for (const [name, e] of ckpt.tensors) if (name.startsWith('momentum/')) momenta.set(name, tf.tensor(e.values, e.shape));
  sgd.load(names.all.map((n) => n.variable), (w) => `momentum/${names.nameOf(w)}`, momenta);
  tf.dispose([...momenta.values()]);
  return ckpt.meta.state;
}

function entry(name: string, v: tf.Variable): TensorEntry {
  return { name, shape: v.shape, values: v.dataSync() as Float32Array };
}
