/**
 * A stage's gradient cap (MHGD's optimiser): the capped term's gradient on each variable is clipped
 * to factor x the norm of the other terms' gradient there, then added; the second gradient pass
 * leaves the student's batch-norm running statistics as the first one set them.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@kdbench/engine';
import type { RunSplits } from '@kdbench/data';
import { smallCifar10 } from './small-splits.js';
import { createModel } from '@kdbench/models';
import { train } from '../src/training/trainer.js';
import { getProtocol, withOverrides } from '../src/protocols.js';
import { crossEntropy } from '../src/losses/kl.js';
import type { GradientCap, MethodInstance } from '../src/method.js';

let splits: RunSplits;

beforeAll(async () => {
  splits = await smallCifar10(6, 5);
});

// 60 records in batches of 25: 3 steps per epoch; plain SGD so a step moves a variable by lr x its gradient
const plain = withOverrides(getProtocol('smoke'), { epochs: 2, batchSize: 25, widthFactor: 0.25, momentum: 0, weightDecay: 0, schedule: { kind: 'constant' as const } });
const student = () => createModel('resnet8', { numClasses: 10, seed: 1, widthFactor: 0.25 });

/**
 * Variables a [3] and b (scalar): 'ce' = <a, (3, 4, 0)> (gradient norm 5 on a, none on b) and
 * 'aux' = <a, (0, 30, 40)> + b (gradient norm 50 on a, 1 on b).
 */
function probe(cap?: GradientCap): { method: MethodInstance; a: tf.Variable; b: tf.Variable } {
  const a = tf.variable(tf.zeros([3]));
  const b = tf.variable(tf.scalar(0));
  const method: MethodInstance = {
    parts: { probe: { trainableVariables: () => [a, b] } },
    losses: () => ({
      ce: tf.sum(tf.mul(a, tf.tensor1d([3, 4, 0]))) as tf.Scalar,
      aux: tf.add(tf.sum(tf.mul(a, tf.tensor1d([0, 30, 40]))), b) as tf.Scalar,
    }),
    ...(cap ? { procedure: { main: { gradientCap: cap } } } : {}),
  };
  return { method, a, b };
}

function trainProbe(cap?: GradientCap): { a: number[]; b: number; losses: Record<string, number>[] } {
  const s = student();
  const { method, a, b } = probe(cap);
  const r = train({ dataset: 'cifar10', splits, protocol: plain, lr: 0.1, seed: 1, student: s, method });
  const out = { a: Array.from(a.dataSync()), b: b.dataSync()[0]!, losses: r.history.map((h) => h.losses) };
  tf.dispose([a, b]);
  s.dispose();
  return out;
}

describe('gradient cap', () => {
  it('clips the capped term per variable to factor x the others\' norm, by epoch, and leaves variables the others miss alone', () => {
    // epoch 0: factor 0.5 -> limit 2.5 of aux's 50: aux adds (0, 1.5, 2); epoch 1: factor 0 -> ce alone
    const capped = trainProbe({ term: 'aux', factor: (epoch) => (epoch === 0 ? 0.5 : 0) });
    const expected = [3 * 0.1 * 3 + 3 * 0.1 * 3, 3 * 0.1 * 5.5 + 3 * 0.1 * 4, 3 * 0.1 * 2 + 0];
    capped.a.forEach((v, i) => expect(v).toBeCloseTo(-expected[i]!, 5));
    expect(capped.b).toBe(0); // the other terms have no gradient on b: none of aux's reaches it
    // a factor large enough to pass aux whole: the plain sum, as without a cap
    const loose = trainProbe({ term: 'aux', factor: () => 100 });
    const uncapped = trainProbe();
    loose.a.forEach((v, i) => expect(v).toBeCloseTo(uncapped.a[i]!, 5));
    uncapped.a.forEach((v, i) => expect(v).toBeCloseTo(-6 * 0.1 * [3, 34, 40][i]!, 4));
    expect(uncapped.b).toBeCloseTo(-0.6, 5);
    // every term is still logged
    expect(Object.keys(capped.losses[0]!)).toEqual(['ce', 'aux', 'total']);
  });

  it('takes its second pass without touching batch-norm running statistics, without leaking tensors', () => {
    // a capped term clipped to nothing must leave the student exactly as training on ce alone does
    const run = (withAux: boolean) => {
      const s = student();
      const method: MethodInstance = {
        losses: (io) => ({
          ce: crossEntropy(io.student.logits, io.labels),
          ...(withAux ? { aux: tf.mean(tf.square(io.student.logits)) as tf.Scalar } : {}),
        }),
        ...(withAux ? { procedure: { main: { gradientCap: { term: 'aux', factor: () => 0 } } } } : {}),
      };
      const counts: number[] = [];
      train({ dataset: 'cifar10', splits, protocol: plain, lr: 0.1, seed: 1, student: s, method, onEvent: (e) => { if (e.type === 'epoch') counts.push(tf.memory().numTensors); } });
      const weights = s.namedVariables().map((v) => Array.from(v.variable.dataSync()));
      s.dispose();
      return { weights, counts };
    };
    const ceOnly = run(false);
    const capped = run(true);
    expect(capped.weights).toEqual(ceOnly.weights); // trainable weights and running statistics alike
    expect(new Set(capped.counts).size).toBe(1);
  });

  it('refuses a cap on a term the losses do not return, in one line', () => {
    expect(() => trainProbe({ term: 'graph', factor: () => 1 })).toThrow(/stage 'main': its gradient cap needs the term 'graph' and at least one other; its losses return ce, aux$/);
  });
});
