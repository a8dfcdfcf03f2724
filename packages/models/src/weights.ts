/**
 * Model weight files: a Model's named variables in kdbench's tensor-file format (engine's
 * tensor-file.ts), with the model id, class count and width in the header. The seed is not
 * stored, so a file's sha256 (the checkpoint hash) depends only on its values. Writes are atomic.
 */
import { readFile } from 'node:fs/promises';
import { decodeTensors, encodeTensors, sha256Hex, tf, writeFileAtomic, type TensorEntry } from '@kdbench/engine';
import type { Model } from './types.js';

interface WeightsMeta {
  format: 'kdbench-weights';
  modelId: string;
  numClasses: number;
  widthFactor: number;
}

function entries(model: Model): TensorEntry[] {
  return model.namedVariables().map(({ name, variable }) => {
    const values = variable.dataSync();
    if (!(values instanceof Float32Array)) throw new Error(`weights: variable '${name}' is not float32`);
    return { name, shape: [...variable.shape], values };
  });
}

/** The bytes saveWeights would write. */
export function serializeWeights(model: Model): Uint8Array {
  const meta: WeightsMeta = {
    format: 'kdbench-weights', modelId: model.id, numClasses: model.options.numClasses, widthFactor: model.options.widthFactor,
  };
  return encodeTensors(meta, entries(model));
}

/** sha256 of the serialized weights: the hash saveWeights would report, without writing. */
export function weightsHash(model: Model): string {
  return sha256Hex(serializeWeights(model));
}

export async function saveWeights(model: Model, file: string): Promise<{ sha256: string; bytes: number }> {
  const bytes = serializeWeights(model);
  writeFileAtomic(file, bytes);
  return { sha256: sha256Hex(bytes), bytes: bytes.length };
}

/** Loads a weight file into `model`, checking model id, options and every shape before assigning anything. */
export async function loadWeights(model: Model, file: string): Promise<{ sha256: string }> {
  let parsed;
  try {
    parsed = decodeTensors<WeightsMeta>(new Uint8Array(await readFile(file)), file);
  } catch (e) {
    throw new Error(`loadWeights: ${(e as Error).message.replace('not a kdbench tensor file', 'not a kdbench weight file')}`);
  }
  const { meta, tensors, sha256 } = parsed;
  if (meta?.format !== 'kdbench-weights') throw new Error(`loadWeights: ${file} is not a kdbench weight file`);
  if (meta.modelId !== model.id) throw new Error(`loadWeights: ${file} holds weights of model '${meta.modelId}', not '${model.id}'`);
  if (meta.numClasses !== model.options.numClasses || meta.widthFactor !== model.options.widthFactor) {
    throw new Error(
      `loadWeights: ${file} was saved with numClasses=${meta.numClasses}, widthFactor=${meta.widthFactor}; ` +
        `the model has numClasses=${model.options.numClasses}, widthFactor=${model.options.widthFactor}`,
    );
  }
  const named = model.namedVariables();
  const missing = named.filter((v) => !tensors.has(v.name)).map((v) => v.name);
  const extra = [...tensors.keys()].filter((n) => !named.some((v) => v.name === n));
  if (missing.length || extra.length) {
    throw new Error(
      `loadWeights: ${file} does not match model '${model.id}'` +
        (missing.length ? `; missing: ${missing.slice(0, 5).join(', ')}` : '') +
        (extra.length ? `; unexpected: ${extra.slice(0, 5).join(', ')}` : ''),
    );
  }
  for (const { name, variable } of named) {
    const t = tensors.get(name)!;
    if (t.shape.join('x') !== variable.shape.join('x')) {
      throw new Error(`loadWeights: ${name} has shape [${t.shape}] in ${file}, model expects [${variable.shape}]`);
    }
  }
  for (const { name, variable } of named) {
    const t = tensors.get(name)!;
    tf.tidy(() => variable.assign(tf.tensor(t.values, t.shape, 'float32')));
  }
  return { sha256 };
}
