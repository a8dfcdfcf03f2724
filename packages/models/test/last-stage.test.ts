import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@kdbench/engine';
import { createModel, layers } from '../src/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** The net's own name of a copy's variable: ResNet copies name their blocks `layer.<j>` (the net: `layer3.<j>`); the others use the net's names. */
const NETS: [string, (name: string) => string][] = [
  ['resnet8', (n) => n.replace(/^layer\./, 'layer3.')],
  ['resnet20@0.5', (n) => n.replace(/^layer\./, 'layer3.')],
  ['vgg8', (n) => n],
  ['densenet40_12', (n) => n],
];

describe('Model.copyLastStage', () => {
  it.each(NETS)('%s: a copy holding the net\'s own last-stage weights gives its logits and pooled feature', (id, netName) => {
    const net = createModel(id, { numClasses: 7, seed: 3, widthFactor: 0.125 });
    const store = new layers.ParamStore(11);
    const copy = net.copyLastStage!(new layers.Scope(store).child('branch1'), 7);
    const own = new Map(net.namedVariables().map((nv) => [nv.name, nv.variable]));
    // the copy is the net's last stage and head, nothing more: every variable has its counterpart, of the same shape
    expect(store.entries.length).toBeGreaterThan(0);
    for (const e of store.entries) {
      const name = netName(e.name.replace(/^branch1\./, ''));
      const original = own.get(name);
      expect(original, `${id}: ${e.name} -> ${name}`).toBeDefined();
      expect(e.variable.shape).toEqual(original!.shape);
    }
    // a fresh draw differs from the net's weights; assigned them, it computes what the net computes
    const fc = store.entries.find((e) => /(fc|classifier)\.weight$/.test(e.name))!;
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(fc.variable, own.get(netName(fc.name.replace(/^branch1\./, '')))!))).dataSync()[0])).toBeGreaterThan(0);
    for (const e of store.entries) e.variable.assign(own.get(netName(e.name.replace(/^branch1\./, '')))!);
    const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
    tf.tidy(() => {
      const full = net.forward(x, { training: false });
      const out = copy.apply(full.features.at(-2)!.post, false);
      expect(out.logits.shape).toEqual([2, 7]);
      expect(tf.max(tf.abs(tf.sub(out.logits, full.logits))).dataSync()[0]).toBeLessThan(1e-5);
      expect(tf.max(tf.abs(tf.sub(out.embedding, full.embedding))).dataSync()[0]).toBeLessThan(1e-5);
    });
    // gradients reach the copy's input and its variables; nothing is left behind
    const h = tf.tidy(() => net.forward(x, { training: false }).features.at(-2)!.post);
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const { grads } = tf.variableGrads(() => tf.sum(copy.apply(h, true).logits) as tf.Scalar, store.entries.filter((e) => e.trainable).map((e) => e.variable));
      expect(Object.keys(grads).length).toBe(store.entries.filter((e) => e.trainable).length);
      const g = tf.grad((input: tf.Tensor) => tf.sum(copy.apply(input as tf.Tensor4D, true).logits))(h);
      expect(Array.from(g.dataSync()).some((v) => v !== 0)).toBe(true);
    });
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, h]);
    store.dispose();
    net.dispose();
  });

  it('is absent where no branch point is defined', () => {
    const wrn = createModel('wrn_16_1', { numClasses: 5, seed: 1, widthFactor: 0.25 });
    expect(wrn.copyLastStage).toBeUndefined();
    wrn.dispose();
  });
});
