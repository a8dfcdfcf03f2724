import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tf } from '@kdbench/engine';
import { createModel } from '../src/index.js';
import { BatchNorm, ParamStore, Scope, activeHooks, withHooks } from '../src/layers/index.js';

beforeAll(async () => { await initEngine({ backend: 'cpu' }); });

describe('forward hooks', () => {
  it('hands batch-norm layers their input batch statistics, also in eval mode', () => {
    const store = new ParamStore(0);
    const bn = new BatchNorm(new Scope(store, 'bn1'), 2);
    // channel 0 values 1, 3 (mean 2, biased var 1); channel 1 values 0, 4 (mean 2, var 4)
    const x = tf.tensor4d([1, 0, 3, 4], [2, 1, 1, 2]);
    const seen: { layer: string; mean: number[]; variance: number[] }[] = [];
    withHooks({ batchNorm: (layer, m, v) => seen.push({ layer, mean: Array.from(m.dataSync()), variance: Array.from(v.dataSync()) }) }, () => {
      tf.tidy(() => { bn.apply(x, false); bn.apply(x, true); });
    });
    expect(seen).toEqual([
      { layer: 'bn1', mean: [2, 2], variance: [1, 4] },
      { layer: 'bn1', mean: [2, 2], variance: [1, 4] },
    ]);
    expect(activeHooks()).toBeUndefined();
    store.dispose();
    x.dispose();
  });

  it('keepRunningStats: training-mode outputs from batch statistics, running statistics untouched', () => {
    for (const closedForm of [true, false]) {
      BatchNorm.closedFormGradient = closedForm;
      const m = createModel('resnet8', { numClasses: 10, seed: 0, widthFactor: 0.25 });
      const stats = () => m.namedVariables().filter((v) => /running_(mean|var)$/.test(v.name)).map((v) => Array.from(v.variable.dataSync()));
      const x = tf.randomNormal([4, 32, 32, 3], 2, 3, 'float32', 5) as tf.Tensor4D;
      const before = stats();
      const kept = m.forward(x, { training: true, hooks: { keepRunningStats: true } });
      expect(stats()).toEqual(before);
      const updated = m.forward(x, { training: true });
      expect(stats()).not.toEqual(before); // the same pass without the hook moves them
      expect(Array.from(kept.logits.dataSync())).toEqual(Array.from(updated.logits.dataSync()));
      tf.dispose([x, kept.logits, updated.logits, ...kept.features.flatMap((f) => [f.pre, f.post]), ...updated.features.flatMap((f) => [f.pre, f.post]), kept.embedding, updated.embedding]);
      m.dispose();
    }
    BatchNorm.closedFormGradient = true;
  });

  it('rewrites weights and inputs of conv and linear layers for one forward pass only', () => {
    const m = createModel('resnet8', { numClasses: 10, seed: 0, widthFactor: 0.25 });
    const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const plain = m.forward(x, { training: false });
    const layers: string[] = [];
    const same = m.forward(x, { training: false, hooks: { input: (l, t, kind) => (layers.push(`${kind}:${l}`), t), weight: (_l, w) => w } });
    expect(Array.from(same.logits.dataSync())).toEqual(Array.from(plain.logits.dataSync()));
    expect(layers[0]).toBe('conv:conv1');
    expect(layers.at(-1)).toBe('linear:fc');
    // zero weights in the classifier: logits equal its bias for every image
    const zeroed = m.forward(x, { training: false, hooks: { weight: (l, w, kind) => (kind === 'linear' ? tf.zerosLike(w) : w) } });
    const bias = m.namedVariables().find((n) => n.name === 'fc.bias')!.variable.dataSync();
    const z = zeroed.logits.arraySync();
    z.forEach((row) => row.forEach((v, j) => expect(v).toBeCloseTo(bias[j]!, 6)));
    expect(Array.from(m.forward(x, { training: false }).logits.dataSync())).toEqual(Array.from(plain.logits.dataSync()));
    m.dispose();
  });
});
