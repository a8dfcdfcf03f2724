import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, Rng, tf } from '@kdbench/engine';
import { loadCifar, makeRunSplits, type RunSplits } from '@kdbench/data';
import { createModel } from '@kdbench/models';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { train, NonFiniteLossError } from '../src/training/trainer.js';
import { getProtocol, withOverrides } from '../src/protocols.js';
import { vanilla } from '../src/methods/vanilla.js';
import { methodContext } from '../src/method-context.js';
import type { StepIO } from '../src/method.js';

const dataDir = process.env.KDBENCH_DATA_DIR ?? resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../../shared/datasets');
let splits: RunSplits;

beforeAll(async () => {
  await initEngine({ backend: 'wasm' });
  const data = await loadCifar('cifar10', { dataDir });
  splits = makeRunSplits(data, { seed: 0, trainPerClass: 6, evalPerClass: 5 });
});

const protocol = withOverrides(getProtocol('smoke'), { epochs: 3, batchSize: 20, widthFactor: 0.25 });

function setup(seed: number) {
  const student = createModel('resnet8', { numClasses: 10, seed, widthFactor: 0.25 });
  const method = vanilla.create(methodContext({ hp: {}, numClasses: 10, student, train: splits.train, epochs: 3, batchSize: 20, rng: new Rng(seed) }));
  return { student, method };
}

describe('trainer', () => {
  it('changes every trainable weight, logs per-term losses and keeps the tensor count flat across epochs', () => {
    const { student, method } = setup(1);
    const before = student.trainableVariables().map((v) => v.dataSync().slice());
    const counts: number[] = [];
    const result = train({
      dataset: 'cifar10', splits, protocol, lr: 0.05, seed: 1, student, method,
      onEvent: (e) => { if (e.type === 'epoch') counts.push(tf.memory().numTensors); },
    });
    expect(counts).toHaveLength(3);
    expect(new Set(counts).size).toBe(1);
    const after = student.trainableVariables().map((v) => v.dataSync());
    after.forEach((w, i) => expect(Array.from(w)).not.toEqual(Array.from(before[i]!)));
    expect(result.history.map((h) => Object.keys(h.losses))).toEqual([['ce', 'total'], ['ce', 'total'], ['ce', 'total']]);
    expect(result.history.every((h) => h.eval && h.eval.top1 >= 0 && h.eval.top1 <= 100)).toBe(true);
    expect(result.best.top1).toBe(Math.max(...result.history.map((h) => h.eval!.top1)));
    expect(result.imagesPerSecond).toBeGreaterThan(0);
    student.dispose();
  });

  it('is deterministic under a seed: same seed, same weights and accuracy; another seed differs', () => {
    const runs = [1, 1, 2].map((seed) => {
      const { student, method } = setup(seed);
      const r = train({ dataset: 'cifar10', splits, protocol: { ...protocol, epochs: 1 }, lr: 0.05, seed, student, method });
      const w = student.trainableVariables()[0]!.dataSync().slice();
      student.dispose();
      return { loss: r.history[0]!.losses.ce, top1: r.last.top1, w };
    });
    expect(runs[1]!.loss).toBe(runs[0]!.loss);
    expect(runs[1]!.top1).toBe(runs[0]!.top1);
    expect(Array.from(runs[1]!.w)).toEqual(Array.from(runs[0]!.w));
    expect(runs[2]!.loss).not.toBe(runs[0]!.loss);
  });

  it('stops with a clear error when a loss becomes non-finite', () => {
    const { student } = setup(1);
    const bad = { losses: (io: StepIO) => ({ ce: tf.mul(tf.mean(io.student.logits), NaN) as tf.Scalar }) };
    expect(() => train({ dataset: 'cifar10', splits, protocol, lr: 0.05, seed: 1, student, method: bad })).toThrow(NonFiniteLossError);
    expect(() => train({ dataset: 'cifar10', splits, protocol, lr: 0.05, seed: 1, student, method: bad })).toThrow(/'ce' became NaN in stage 'main', epoch 1, step 1/);
    student.dispose();
  });
});
