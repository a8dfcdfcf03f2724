/** quantize(model): forward against the inner model, signs and edge layers, clips, gradients, size, leaks. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tf } from '@kdbench/engine';
import { createModel, layers, type ForwardResult, type Model } from '@kdbench/models';
import { quantize } from '../src/quantize.js';
import { bitsOf } from '../src/shared/student.js';

let net: Model;
let x: tf.Tensor4D;
beforeAll(async () => {
  await initEngine({ backend: 'wasm' });
  net = createModel('resnet8', { numClasses: 10, seed: 3, widthFactor: 0.25 });
  x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
});
afterAll(() => {
  net.dispose();
  x.dispose();
});

const logitsOf = (m: Model, training: boolean) => tf.tidy(() => Array.from(m.forward(x, { training }).logits.dataSync()));

/**
 * conv1 (3 -> 4, 3x3) - bn1 - relu - conv2 (4 -> 4, 1x1) - bn2 - relu - pool - fc (4 -> 2): 150 parameters
 * (108 + 8 + 16 + 8 + 8 + 2), plus 16 batch-norm running statistics.
 */
function tinyNet(): Model {
  const store = new layers.ParamStore(11);
  const root = new layers.Scope(store);
  const conv1 = new layers.Conv2d(root.child('conv1'), { inChannels: 3, outChannels: 4, kernelSize: 3, padding: 1 }, { h: 32, w: 32 });
  const bn1 = new layers.BatchNorm(root.child('bn1'), 4);
  const conv2 = new layers.Conv2d(root.child('conv2'), { inChannels: 4, outChannels: 4, kernelSize: 1 }, { h: 32, w: 32 });
  const bn2 = new layers.BatchNorm(root.child('bn2'), 4);
  const fc = new layers.Linear(root.child('fc'), 4, 2);
  return {
    id: 'tiny',
    options: { numClasses: 2, seed: 11, widthFactor: 1 },
    forward: (input, opts) => tf.tidy(() => layers.withHooks(opts.hooks, () => {
      const a = layers.relu(bn1.apply(conv1.apply(input), opts.training));
      const b = layers.relu(bn2.apply(conv2.apply(a), opts.training));
      const embedding = layers.globalAvgPool(b);
      return { logits: fc.apply(embedding), features: [{ name: 'stem', pre: a, post: a }], embedding };
    }) as unknown as tf.TensorContainer) as unknown as ForwardResult,
    trainableVariables: () => store.entries.filter((e) => e.trainable).map((e) => e.variable),
    classifierVariables: () => [fc.weight, fc.bias],
    namedVariables: () => [...store.entries],
    paramCount: () => store.entries.filter((e) => e.trainable).reduce((n, e) => n + e.variable.size, 0),
    flops: () => store.macs,
    featureShapes: () => [{ name: 'stem', channels: 4, height: 32, width: 32 }],
    dispose: () => store.dispose(),
  };
}

describe('quantize(model)', () => {
  it('is the inner model at 32 bits (training and evaluation forward)', () => {
    const q = quantize(net, { weightBits: 32, activationBits: 32 });
    expect(logitsOf(q, false)).toEqual(logitsOf(net, false));
    expect(logitsOf(q, true)).toEqual(logitsOf(net, true));
    expect(q.label).toBe('FP32');
    expect(q.trainableVariables()).toEqual(net.trainableVariables());
    q.dispose();
  });

  it('differs from the inner model at 2 bits, in evaluation as in training', () => {
    const q = quantize(net, bitsOf({ wbits: 2, abits: 2, edgeBits: 8 }));
    const maxDiff = (a: number[], b: number[]) => Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));
    expect(maxDiff(logitsOf(q, false), logitsOf(net, false))).toBeGreaterThan(1e-3);
    expect(maxDiff(logitsOf(q, true), logitsOf(net, true))).toBeGreaterThan(1e-3);
    expect(q.label).toBe('W2A2');
    q.dispose();
  });

  it('finds the signed input (the image) and keeps the first conv and the classifier at edgeBits', () => {
    const q = quantize(net, { weightBits: 4, activationBits: 4 });
    expect(q.layers[0]!.name).toBe('conv1');
    expect(q.layers.at(-1)!.name).toBe('fc');
    // post-ReLU inputs everywhere but the stem conv, whose input is the normalised image
    expect(q.layers.filter((l) => l.signedInput).map((l) => l.name)).toEqual(['conv1']);
    for (const l of q.layers) {
      const edge = l.name === 'conv1' || l.name === 'fc';
      expect([l.name, l.weightBits, l.activationBits]).toEqual([l.name, edge ? 8 : 4, edge ? 8 : 4]);
    }
    const fp = quantize(net, { weightBits: 4, activationBits: 4, edgeBits: 32 });
    expect([fp.layers[0]!.weightBits, fp.layers.at(-1)!.activationBits]).toEqual([32, 32]);
    q.dispose();
    fp.dispose();
  });

  it('sets each clip to the max |x| of its first input, keeps it afterwards, and names it for checkpoints', () => {
    const q = quantize(net, { weightBits: 4, activationBits: 4 });
    const seen = new Map<string, number>();
    const record = { input: (l: string, t: tf.Tensor) => (seen.has(l) || seen.set(l, tf.max(tf.abs(t)).dataSync()[0]!), t) };
    tf.tidy(() => { q.forward(x, { training: false, hooks: record }); });
    const clips = q.namedVariables().filter((n) => n.name.startsWith('quant.'));
    expect(clips.map((c) => c.name)).toEqual(q.layers.map((l) => `quant.${l.name}.clip`));
    for (const c of clips) expect(c.variable.dataSync()[0]).toBeCloseTo(seen.get(c.name.slice(6, -5))!, 5);
    const before = clips.map((c) => c.variable.dataSync()[0]);
    const y2 = tf.mul(x, 3);
    tf.tidy(() => { q.forward(y2 as tf.Tensor4D, { training: false }); });
    expect(clips.map((c) => c.variable.dataSync()[0])).toEqual(before);
    y2.dispose();
    q.dispose();
  });

  it('sends straight-through gradients to every inner weight and defines one for every clip', () => {
    const q = quantize(net, { weightBits: 2, activationBits: 4 });
    const labels = tf.tensor1d([1, 7], 'int32');
    tf.tidy(() => {
      const vars = q.trainableVariables();
      const { grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(tf.oneHot(labels, 10), q.forward(x, { training: true }).logits) as tf.Scalar, vars);
      const named = q.namedVariables();
      for (const n of named.filter((v) => v.trainable)) {
        const g = grads[n.variable.name];
        expect(g, n.name).toBeDefined();
        if (/conv\d?\.weight$|fc\.weight$/.test(n.name)) expect(tf.max(tf.abs(g!)).dataSync()[0], n.name).toBeGreaterThan(0);
      }
    });
    labels.dispose();
    q.dispose();
  });

  it('leaks no tensors across training steps and frees its clips on dispose', () => {
    const q = quantize(net, { weightBits: 4, activationBits: 4 });
    const step = () => tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => tf.sum(q.forward(x, { training: true }).logits) as tf.Scalar, q.trainableVariables());
      tf.dispose([value, ...Object.values(grads)]);
    });
    step(); // sets the clips once
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    const clipCount = q.layers.length;
    q.dispose();
    expect(tf.memory().numTensors).toBe(before - clipCount);
    expect(() => q.forward(x, { training: false })).toThrow(/disposed/);
    expect(logitsOf(net, false).length).toBe(20); // the inner model is untouched
  });

  it('refuses bit widths it cannot represent', () => {
    expect(() => quantize(net, { weightBits: 1, activationBits: 8 })).toThrow(/weightBits/);
    expect(() => quantize(net, { weightBits: 4, activationBits: 40 })).toThrow(/activationBits/);
    expect(() => quantize(net, { weightBits: 4, activationBits: 4, edgeBits: 2 })).toThrow(/edgeBits/);
  });
});

describe('model size in bytes (tiny hand-made model)', () => {
  it('counts packed weights, per-channel scales, fp32 biases and batch-norm affines, and clips', () => {
    const m = tinyNet();
    expect(m.paramCount()).toBe(150);
    // FP32: 4 bytes per parameter
    expect(quantize(m, { weightBits: 32, activationBits: 32 }).modelBytes()).toBe(600);
    // W4A4, edges at 8 bits: conv1 108 weights at 8 bits = 108 B + 4 scales * 4 B = 16; conv2 16 weights at 4 bits = 8 B + 16;
    // fc 8 weights at 8 bits = 8 B + 2 scales = 8; fp32: bn1 + bn2 gamma/beta 16 values + fc bias 2 = 18 * 4 = 72;
    // clips: 3 quantised inputs * 4 = 12. Total 108 + 16 + 8 + 16 + 8 + 8 + 72 + 12 = 248.
    const w4 = quantize(m, { weightBits: 4, activationBits: 4 });
    expect(w4.sizeBreakdown()).toEqual({ weights: 124, scales: 40, fp32: 72, clips: 12, total: 248 });
    // W2 (ternary, activations 8 by default): conv2 16 weights at 2 bits = 4 B; the rest as above: 248 - 8 + 4 = 244
    const w2 = quantize(m, bitsOf({ wbits: 2, abits: 0, edgeBits: 8 }));
    expect(w2.bits).toEqual({ weightBits: 2, activationBits: 8, edgeBits: 8 });
    expect(w2.modelBytes()).toBe(244);
    // W4A4 with full-precision edges: conv1 432 B, conv2 8 + 16, fc 32 B, fp32 72, one clip (conv2's input) 4 = 564
    const fpEdges = quantize(m, { weightBits: 4, activationBits: 4, edgeBits: 32 });
    expect(fpEdges.sizeBreakdown()).toEqual({ weights: 472, scales: 16, fp32: 72, clips: 4, total: 564 });
    for (const q of [w4, w2, fpEdges]) q.dispose();
    m.dispose();
  });
});
