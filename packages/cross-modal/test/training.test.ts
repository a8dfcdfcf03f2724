/**
 * The cross-modal methods in the real trainer on a few real CIFAR-10 images (wasm, widths x0.25):
 * the trainer trains and evaluates the modality student, and a label-free method runs under
 * data: 'unlabeled' (a method that read labels would throw there).
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { CONFORMANCE_PROTOCOL, loadConformanceSplits, disposeInstance } from '@kdbench/core/testing';
import { evaluate, methodContext, train, type MethodDefinition } from '@kdbench/core';
import type { RunSplits } from '@kdbench/data';
import { initEngine, Rng, tf } from '@kdbench/engine';
import { createModel } from '@kdbench/models';
import { modalitylabeled, suptransfer } from '../src/index.js';

/** $KDBENCH_DATA_DIR, else ../shared/datasets beside the repository. */
const dataDir = process.env.KDBENCH_DATA_DIR ?? resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../../shared/datasets');
let splits: RunSplits;

beforeAll(async () => {
  await initEngine({ backend: 'wasm' });
  splits = await loadConformanceSplits(dataDir);
});

function run(def: MethodDefinition<any>, hp: Record<string, unknown>, withTeacher: boolean) {
  const protocol = { ...CONFORMANCE_PROTOCOL, epochs: 1 };
  const student = createModel('resnet8', { numClasses: 10, seed: 1, widthFactor: 0.25 });
  const teacher = withTeacher ? createModel('resnet14', { numClasses: 10, seed: 2, widthFactor: 0.25 }) : undefined;
  const method = def.create(methodContext({
    hp: { ...def.defaults, ...hp }, numClasses: 10, student, teacher, train: splits.train, epochs: 1, batchSize: protocol.batchSize,
    rng: new Rng(1), data: def.data,
  }));
  const wrapped = method.procedure!.student!;
  const calls = { train: 0, eval: 0 };
  const forward = wrapped.forward.bind(wrapped);
  wrapped.forward = (x, opts) => {
    calls[opts.training ? 'train' : 'eval']++;
    return forward(x, opts);
  };
  const result = train({ dataset: 'cifar10', splits, protocol, lr: 0.05, seed: 1, student, teacher, method, data: def.data });
  return { result, wrapped, student, teacher, method, calls };
}

describe('cross-modal methods in the trainer', () => {
  it('the trainer trains and evaluates the student through its modality', () => {
    const { result, wrapped, student, method, calls } = run(modalitylabeled, { modality: 'low8' }, false);
    expect(calls.train).toBe(2); // 40 images in batches of 20
    expect(calls.eval).toBeGreaterThan(0); // the evaluation split went through the wrapper
    expect(result.last.top1).toBe(evaluate(wrapped, splits.evaluation, 'cifar10').top1);
    disposeInstance(method);
    student.dispose();
  });

  it('supervision transfer trains under data: unlabeled with finite losses', () => {
    const { result, student, teacher, method, calls } = run(suptransfer, { modality: 'edge' }, true);
    expect(calls.train).toBe(2);
    const losses = result.history.at(-1)!.losses;
    expect(Object.keys(losses).sort()).toEqual(['features', 'kd', 'total']);
    for (const v of Object.values(losses)) expect(Number.isFinite(v)).toBe(true);
    disposeInstance(method);
    student.dispose();
    teacher!.dispose();
  });

  it('the trainer refuses labels to a label-free method', () => {
    const reader: MethodDefinition<any> = {
      ...suptransfer, id: 'labelreader',
      create: (ctx) => ({ ...suptransfer.create(ctx), losses: (io) => ({ ce: tf.sum(io.labels) as tf.Scalar }) }),
    };
    expect(() => run(reader, {}, true)).toThrow(/data: 'unlabeled' and may not read the labels/);
  });
});
