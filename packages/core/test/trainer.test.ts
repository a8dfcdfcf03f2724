import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, tf } from '@kdbench/engine';
import type { RunSplits } from '@kdbench/data';
import { smallCifar10 } from './small-splits.js';
import { createModel } from '@kdbench/models';
import { train, NonFiniteLossError } from '../src/training/trainer.js';
import { getProtocol, withOverrides } from '../src/protocols.js';
import { vanilla } from '../src/methods/vanilla.js';
import { methodContext } from '../src/method-context.js';
import type { MethodInstance, StepIO } from '../src/method.js';
import { scheduledRate } from '../src/optim/schedule.js';

let splits: RunSplits;

beforeAll(async () => {
  splits = await smallCifar10(6, 5);
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

  /**
   * A method whose only trainable part is a scalar w with loss w (gradient 1): with momentum and
   * weight decay 0, w falls by exactly the sum of the rates the trainer used.
   */
  function rateProbe(): { method: MethodInstance; w: tf.Variable } {
    const w = tf.variable(tf.scalar(0));
    const method: MethodInstance = {
      parts: { probe: { trainableVariables: () => [w] } },
      losses: (io) => ({ lin: tf.add(w, tf.mul(tf.mean(io.student.logits), 0)) as tf.Scalar }),
    };
    return { method, w };
  }
  const plain = withOverrides(getProtocol('smoke'), { epochs: 2, batchSize: 25, widthFactor: 0.25, momentum: 0, weightDecay: 0 });
  const rateSum = (p: typeof plain) => {
    const student = createModel('resnet8', { numClasses: 10, seed: 1, widthFactor: 0.25 });
    const { method, w } = rateProbe();
    const r = train({ dataset: 'cifar10', splits, protocol: p, lr: 0.1, seed: 1, student, method });
    const sum = -w.dataSync()[0]!;
    student.dispose();
    w.dispose();
    return { sum, lrs: r.history.map((h) => h.lr) };
  };

  it('updates the rate every iteration with scheduleUnit=iteration, once per epoch by default', () => {
    // 60 records, batches of 25: 3 steps per epoch (25, 25, 10), 2 epochs
    const cosine = { schedule: { kind: 'cosine' as const } };
    const perEpoch = rateSum(withOverrides(plain, cosine));
    const perStep = rateSum(withOverrides(plain, { ...cosine, scheduleUnit: 'iteration' }));
    // per epoch: 3 * (0.1 + 0.05) ; per step: sum over t = e + s/3 of 0.05 (1 + cos(pi t / 2))
    expect(perEpoch.sum).toBeCloseTo(3 * (0.1 + 0.05), 5);
    let expected = 0;
    for (let e = 0; e < 2; e++) for (let st = 0; st < 3; st++) expected += 0.05 * (1 + Math.cos((Math.PI * (e + st / 3)) / 2));
    expect(perStep.sum).toBeCloseTo(expected, 5);
    expect(perStep.lrs).toEqual([0.1, 0.05]); // the record keeps each epoch's first rate
  });

  it('warms up linearly and drops the last incomplete batch when asked', () => {
    const constant = { schedule: { kind: 'constant' as const } };
    // warm-up over 2 epochs, per epoch: factors 1/2, 1 -> 3 * 0.05 + 3 * 0.1
    expect(rateSum(withOverrides(plain, { ...constant, warmupEpochs: 2 })).sum).toBeCloseTo(0.45, 5);
    // per step: factors (t + 1/3) / 2 for t = 0, 1/3, 2/3, then 1 -> 0.1 * (1/6 + 2/6 + 3/6) + 0.3
    expect(rateSum(withOverrides(plain, { ...constant, warmupEpochs: 1, scheduleUnit: 'iteration' })).sum).toBeCloseTo(0.1 * (1 / 3 + 2 / 3 + 1) + 0.3, 5);
    // dropLast: 2 steps per epoch instead of 3
    expect(rateSum(withOverrides(plain, { ...constant, dropLast: true })).sum).toBeCloseTo(4 * 0.1, 5);
    expect(rateSum(withOverrides(plain, constant)).sum).toBeCloseTo(6 * 0.1, 5);
  });

  it('keeps the per-epoch rate of the default recipe: scheduledRate = the epoch schedule at every step', () => {
    const p = getProtocol('quick');
    for (let e = 0; e < p.epochs; e++) {
      for (const st of [0, 7, 62]) expect(scheduledRate(0.05, p, e, st, 63, p.epochs)).toBe(0.05 * 0.1 ** [7.5, 9, 10.5].filter((m) => e >= Math.round(m)).length);
    }
  });
});

