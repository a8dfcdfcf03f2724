/** A few real CIFAR-10 images per class for the trainer's tests, on the wasm backend. */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initEngine } from '@kdbench/engine';
import { loadCifar, makeRunSplits, type RunSplits } from '@kdbench/data';

const dataDir = process.env.KDBENCH_DATA_DIR ?? resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../../shared/datasets');

export async function smallCifar10(trainPerClass: number, evalPerClass: number): Promise<RunSplits> {
  await initEngine({ backend: 'wasm' });
  return makeRunSplits(await loadCifar('cifar10', { dataDir }), { seed: 0, trainPerClass, evalPerClass });
}
