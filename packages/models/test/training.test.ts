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

/** The survey tables' nets, each at a width that keeps a step cheap on cpu. */
const SURVEY_NETS: [string, number][] = [
  ['resnet18', 0.125], ['resnet34', 0.125], ['resnet50', 0.0625], ['resnet152', 0.0625], ['resnext50_32x4d', 0.0625],
  ['resnext29_8x64d', 0.0625], ['plaincnn18', 0.125], ['plaincnn34', 0.125], ['wrn_16_4', 0.125], ['wrn_16_8', 0.0625],
  ['wrn_28_2', 0.125], ['wrn_28_4', 0.0625], ['wrn_28_10', 0.05], ['wrn_40_4', 0.0625], ['densenet40_12', 0.25],
  ['vgg16', 0.125], ['alexnet', 0.25], ['mobilenetv1', 0.125],
];

/**
 * One SGD step of a fresh model on a batch of 2 (16x16 images: every net pools globally; AlexNet's
 * fixed 1x1 head needs 32x32). Returns the loss, whether every trainable variable got a finite
 * gradient, and the weights' hash before and after.
 */
function sgdStep(id: string, widthFactor: number, seed: number) {
  const model = createModel(id, { numClasses: 5, seed, widthFactor });
  const size = id === 'alexnet' ? 32 : 16;
  const x = tf.randomNormal([2, size, size, 3], 0, 1, 'float32', 21) as tf.Tensor4D;
  const y = tf.oneHot(tf.tensor1d([1, 3], 'int32'), 5) as tf.Tensor2D;
  const before = weightsHash(model);
  const { value, grads } = tf.variableGrads(() => ceLoss(model, x, y), model.trainableVariables());
  const covered = Object.keys(grads).length === model.trainableVariables().length;
  const finite = Object.values(grads).every((g) => g.dataSync().every(Number.isFinite));
  tf.train.sgd(0.1).applyGradients(grads);
  const out = { loss: value.dataSync()[0]!, covered, finite, before, after: weightsHash(model) };
  tf.dispose([value, x, y, ...Object.values(grads)]);
  model.dispose();
  return out;
}

describe('the survey tables\' nets: initialisation fixed by the seed, one training step each (narrow, batch 2)', () => {
  it('same seed gives identical weights, another seed other weights', () => {
    for (const [id, width] of SURVEY_NETS) {
      const hash = (seed: number) => {
        const m = createModel(id, { numClasses: 5, seed, widthFactor: width });
        const h = weightsHash(m);
        m.dispose();
        return h;
      };
      expect(hash(4), id).toBe(hash(4));
      expect(hash(5), id).not.toBe(hash(4));
    }
  });

  for (const [id, width] of SURVEY_NETS) {
    it(`${id}: gradients reach every trainable variable and the step moves the weights`, () => {
      const r = sgdStep(id, width, 4);
      expect(Number.isFinite(r.loss)).toBe(true);
      expect(r.covered && r.finite).toBe(true);
      expect(r.after).not.toBe(r.before);
    });
  }

  it('a step is deterministic under a seed (concatenating, grouped and bias-only nets)', () => {
    for (const id of ['densenet40_12', 'resnext50_32x4d', 'alexnet']) {
      const width = SURVEY_NETS.find(([n]) => n === id)![1];
      expect(sgdStep(id, width, 7), id).toEqual(sgdStep(id, width, 7));
    }
  });
});

describe('memory', () => {
  it('repeated training steps of the new block types leak no tensors', () => {
    const models = [createModel('densenet40_12', { numClasses: 10, seed: 3, widthFactor: 0.25 }), createModel('resnext50_32x4d', { numClasses: 10, seed: 3, widthFactor: 0.0625 })];
    const x = tf.randomNormal([2, 16, 16, 3], 0, 1, 'float32', 13) as tf.Tensor4D;
    const y = tf.oneHot(tf.tensor1d([1, 3], 'int32'), 10) as tf.Tensor2D;
    const opt = tf.train.sgd(0.01);
    const stepAll = () => models.forEach((m) => {
      const { value, grads } = tf.variableGrads(() => ceLoss(m, x, y), m.trainableVariables());
      opt.applyGradients(grads);
      tf.dispose([value, ...Object.values(grads)]);
      tf.tidy(() => { m.forward(x, { training: false }); });
    });
    stepAll();
    const base = tf.memory().numTensors;
    stepAll();
    expect(tf.memory().numTensors).toBe(base);
    tf.dispose([x, y]);
    models.forEach((m) => m.dispose());
  });

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
