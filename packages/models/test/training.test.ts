import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@kdbench/engine';
import { createModel, weightsHash, type Model } from '../src/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function ceLoss(model: Model, x: tf.Tensor4D, labels: tf.Tensor2D): tf.Scalar {
  const { logits } = model.forward(x, { training: true });
  return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
}

function batch(seed: number, classes: number): { x: tf.Tensor4D; y: tf.Tensor2D } {
  return {
    x: tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', seed) as tf.Tensor4D,
    y: tf.oneHot(tf.tensor1d([1, 3], 'int32'), classes) as tf.Tensor2D,
  };
}

describe('determinism', () => {
  it('same seed gives identical weights, a different seed different ones', () => {
    const a = createModel('shufflenetv1', { numClasses: 10, seed: 42, widthFactor: 0.25 });
    const b = createModel('shufflenetv1', { numClasses: 10, seed: 42, widthFactor: 0.25 });
    const c = createModel('shufflenetv1', { numClasses: 10, seed: 43, widthFactor: 0.25 });
    expect(weightsHash(a)).toBe(weightsHash(b));
    expect(weightsHash(a)).not.toBe(weightsHash(c));
    a.namedVariables().forEach((v, i) => {
      expect(Array.from(v.variable.dataSync())).toEqual(Array.from(b.namedVariables()[i]!.variable.dataSync()));
    });
    const differing = a.namedVariables().filter((v, i) => {
      const other = c.namedVariables()[i]!.variable.dataSync();
      return v.variable.dataSync().some((x, j) => x !== other[j]);
    });
    // every randomly initialised tensor differs (BN params and zero biases are constants)
    expect(differing.map((v) => v.name)).toEqual(
      a.namedVariables().filter((v) => /conv\d\.weight$|linear\.(weight|bias)$/.test(v.name)).map((v) => v.name),
    );
    [a, b, c].forEach((m) => m.dispose());
  });
});

describe('batch norm inside a model', () => {
  it('a training forward updates running stats; eval forward uses (and keeps) them', () => {
    const model = createModel('resnet8', { numClasses: 10, seed: 1, widthFactor: 0.5 });
    const stats = () => model.namedVariables().filter((v) => !v.trainable).map((v) => Array.from(v.variable.dataSync()));
    const { x, y } = batch(5, 10);
    const initial = stats();
    const evalBefore = tf.tidy(() => model.forward(x, { training: false }).logits.arraySync());
    expect(stats()).toEqual(initial);
    tf.tidy(() => {
      model.forward(x, { training: true });
    });
    const after = stats();
    expect(after).not.toEqual(initial);
    const means = model.namedVariables().filter((v) => v.name.endsWith('running_mean'));
    expect(means.every((v) => tf.tidy(() => tf.max(tf.abs(v.variable)).dataSync()[0]!) > 0)).toBe(true);
    const evalAfter = tf.tidy(() => model.forward(x, { training: false }).logits.arraySync());
    expect(evalAfter).not.toEqual(evalBefore);
    expect(stats()).toEqual(after);
    // eval is deterministic given the stats
    expect(tf.tidy(() => model.forward(x, { training: false }).logits.arraySync())).toEqual(evalAfter);
    tf.dispose([x, y]);
    model.dispose();
  });
});

describe('gradients', () => {
  it('reach every trainable variable of resnet8 (full width) and are finite', () => {
    const model = createModel('resnet8', { numClasses: 10, seed: 7 });
    const { x, y } = batch(11, 10);
    const { value, grads } = tf.variableGrads(() => ceLoss(model, x, y), model.trainableVariables());
    expect(Number.isFinite(value.dataSync()[0])).toBe(true);
    const named = model.namedVariables().filter((v) => v.trainable);
    for (const v of named) {
      const g = grads[v.variable.name];
      expect(g, v.name).toBeDefined();
      expect(g!.shape, v.name).toEqual(v.variable.shape);
      const data = g!.dataSync();
      expect(data.every(Number.isFinite), `${v.name} finite`).toBe(true);
      expect(data.some((d) => d !== 0), `${v.name} nonzero`).toBe(true);
    }
    // the training forward inside variableGrads also moved the running stats
    const rm = model.namedVariables().find((v) => v.name === 'bn1.running_mean')!;
    expect(tf.tidy(() => tf.max(tf.abs(rm.variable)).dataSync()[0]!)).toBeGreaterThan(0);
    tf.dispose([value, x, y]);
    tf.dispose(Object.values(grads));
    model.dispose();
  });

  for (const id of ['wrn_16_1', 'vgg8', 'mobilenetv2', 'shufflenetv1', 'shufflenetv2']) {
    it(`${id}: variableGrads covers all trainable variables (narrow)`, () => {
      const model = createModel(id, { numClasses: 5, seed: 2, widthFactor: 0.25 });
      const { x, y } = batch(12, 5);
      const { value, grads } = tf.variableGrads(() => ceLoss(model, x, y), model.trainableVariables());
      expect(Object.keys(grads).length).toBe(model.trainableVariables().length);
      for (const g of Object.values(grads)) expect(g.dataSync().every(Number.isFinite)).toBe(true);
      tf.dispose([value, x, y]);
      tf.dispose(Object.values(grads));
      model.dispose();
    });
  }
});

describe('memory', () => {
  it('repeated training forwards + grads leak no tensors', () => {
    const model = createModel('shufflenetv2', { numClasses: 10, seed: 3, widthFactor: 0.1 });
    const wrn = createModel('wrn_16_1', { numClasses: 10, seed: 3, widthFactor: 0.25 });
    // 16x16 inputs: the nets pool globally, and op count (not size) is what leaks would scale with
    const x = tf.randomNormal([2, 16, 16, 3], 0, 1, 'float32', 13) as tf.Tensor4D;
    const y = tf.oneHot(tf.tensor1d([1, 3], 'int32'), 10) as tf.Tensor2D;
    const opt = tf.train.sgd(0.01);
    const step = (m: Model) => {
      const { value, grads } = tf.variableGrads(() => ceLoss(m, x, y), m.trainableVariables());
      opt.applyGradients(grads);
      tf.dispose([value, ...Object.values(grads)]);
      tf.tidy(() => {
      m.forward(x, { training: false });
    });
      tf.tidy(() => {
      m.forward(x, { training: true });
    });
    };
    step(model);
    step(wrn);
    const base = tf.memory().numTensors;
    for (let i = 0; i < 2; i++) {
      step(model);
      step(wrn);
      expect(tf.memory().numTensors).toBe(base);
    }
    tf.dispose([x, y]);
    model.dispose();
    wrn.dispose();
  });

  it('forward keeps only the returned tensors alive (intermediates are tidied)', () => {
    const m = createModel('resnet8', { numClasses: 10, seed: 0, widthFactor: 0.25 });
    const x = tf.zeros([2, 32, 32, 3]) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    const r = m.forward(x, { training: true });
    const returned = new Set<tf.Tensor>([r.logits, r.embedding, ...r.features.flatMap((f) => [f.pre, f.post])]);
    expect(tf.memory().numTensors).toBe(before + returned.size);
    tf.dispose([...returned]);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    m.dispose();
  });

  it('dispose frees every variable', () => {
    const before = tf.memory().numTensors;
    const m = createModel('vgg8', { numClasses: 10, seed: 0, widthFactor: 0.125 });
    expect(tf.memory().numTensors).toBe(before + m.namedVariables().length);
    m.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
