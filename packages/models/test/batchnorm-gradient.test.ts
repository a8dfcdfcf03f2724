/**
 * The closed-form training-mode batch-norm gradient equals the gradient of the forward ops: on the
 * cpu backend (elementary ops) and on wasm with the native addon (the fused kernels).
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fusedBatchNormAvailable, initEngine, nativeStatus, tf } from '@kdbench/engine';
import { BatchNorm, ParamStore, Scope } from '../src/layers/index.js';
import { createModel } from '../src/index.js';

afterEach(() => { BatchNorm.closedFormGradient = true; });

function gradsOf(closedForm: boolean, x: tf.Tensor4D, w: tf.Tensor4D) {
  BatchNorm.closedFormGradient = closedForm;
  const store = new ParamStore(3);
  const bn = new BatchNorm(new Scope(store, 'bn'), 3);
  bn.gamma.assign(tf.tensor1d([0.5, 2, -1]));
  bn.beta.assign(tf.tensor1d([0.1, 0, -0.3]));
  const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(bn.apply(x, true), w)) as tf.Scalar, [bn.gamma, bn.beta]);
  const dx = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(bn.apply(xx as tf.Tensor4D, true), w)))(x);
  const out = {
    value: value.dataSync()[0]!, dx: Array.from(dx.dataSync()), dgamma: Array.from(grads[bn.gamma.name]!.dataSync()),
    dbeta: Array.from(grads[bn.beta.name]!.dataSync()), runningMean: Array.from(bn.runningMean.dataSync()), runningVar: Array.from(bn.runningVar.dataSync()),
  };
  store.dispose();
  return out;
}

describe.each([
  { backend: 'cpu' as const, fused: false },
  { backend: 'wasm' as const, fused: true },
])('batch norm: closed-form training gradient on $backend', ({ backend, fused }) => {
  beforeAll(async () => { await initEngine({ backend }); });
  const skip = fused && !nativeStatus().loaded;

  it.skipIf(skip)(fused ? 'runs the fused native kernels' : 'runs the elementary ops', () => {
    expect(fusedBatchNormAvailable()).toBe(fused);
  });

  it.skipIf(skip)('matches the differentiated forward ops for x, gamma and beta, with the same running statistics', () => {
    const x = tf.randomNormal([4, 3, 2, 3], 1, 2, 'float32', 7) as tf.Tensor4D;
    const w = tf.randomNormal([4, 3, 2, 3], 0, 1, 'float32', 8) as tf.Tensor4D;
    const a = gradsOf(true, x, w);
    const b = gradsOf(false, x, w);
    expect(a.value).toBeCloseTo(b.value, 4);
    for (const k of ['dx', 'dgamma', 'dbeta', 'runningMean', 'runningVar'] as const) {
      a[k].forEach((v, i) => expect(Math.abs(v - b[k][i]!)).toBeLessThan(1e-4 * Math.max(1, Math.abs(b[k][i]!))));
    }
    // dbeta is the plain sum of the upstream gradient
    const wSum = tf.sum(w, [0, 1, 2]).dataSync();
    a.dbeta.forEach((v, i) => expect(v).toBeCloseTo(wSum[i]!, 4));
  });

  it.skipIf(skip)('gives the same whole-network gradients as the differentiated ops, without leaking tensors', () => {
    const m = createModel('resnet8', { numClasses: 10, seed: 0, widthFactor: 0.25 });
    const x = tf.randomNormal([4, 32, 32, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const y = tf.oneHot(tf.tensor1d([1, 2, 3, 4], 'int32'), 10);
    const run = (closed: boolean) => {
      BatchNorm.closedFormGradient = closed;
      return tf.tidy(() => {
        const { grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, m.forward(x, { training: true }).logits) as tf.Scalar, m.trainableVariables());
        return m.trainableVariables().map((v) => Array.from(grads[v.name]!.dataSync()));
      });
    };
    run(true);
    const before = tf.memory().numTensors;
    const a = run(true);
    expect(tf.memory().numTensors).toBe(before);
    const b = run(false);
    let worst = 0;
    a.forEach((g, i) => {
      const scale = Math.max(1e-3, ...b[i]!.map(Math.abs));
      g.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - b[i]![j]!) / scale)));
    });
    expect(worst).toBeLessThan(1e-4);
    m.dispose();
  });
});

/**
 * On the native kernels, folding a ReLU and a residual sum into batch norm (`BatchNorm.fuseTails`,
 * the default) changes no bit of the forward values, the gradients or the running statistics
 * against adding them with ops after the kernel: the fused kernel computes the same float
 * expression and masks the gradient as tfjs's ReLU does (dy * step(out)). This is what lets a net
 * move a call site to the fused form without changing the numbers of runs already recorded.
 */
describe.skipIf(!nativeStatus().loaded)('fused ReLU and residual tails are bit-identical to the composed ops', () => {
  beforeAll(async () => { await initEngine({ backend: 'wasm' }); });
  afterEach(() => { BatchNorm.fuseTails = true; });

  // 8 x 16 x 16 x 24 values: past the kernel's minimum block size, so its row blocks run in parallel
  const shape: [number, number, number, number] = [8, 16, 16, 24];
  function layer(fuse: boolean, withResidual: boolean) {
    BatchNorm.fuseTails = fuse;
    const store = new ParamStore(3);
    const bn = new BatchNorm(new Scope(store, 'bn'), shape[3]);
    const x = tf.randomNormal(shape, 0.3, 2, 'float32', 11) as tf.Tensor4D;
    const r = tf.randomNormal(shape, 0, 1, 'float32', 12) as tf.Tensor4D;
    const w = tf.randomNormal(shape, 0, 1, 'float32', 13) as tf.Tensor4D;
    tf.tidy(() => {
      bn.gamma.assign(tf.randomNormal([shape[3]], 1, 0.5, 'float32', 14));
      bn.beta.assign(tf.randomNormal([shape[3]], 0, 0.5, 'float32', 15));
    });
    const forward = (xx: tf.Tensor, rr: tf.Tensor, training: boolean) =>
      bn.apply(xx as tf.Tensor4D, training, { residual: withResidual ? rr as tf.Tensor4D : undefined, relu: true });
    const grads = tf.tidy(() => {
      const f = (xx: tf.Tensor, rr: tf.Tensor) => tf.sum(tf.mul(forward(xx, rr, true), w));
      const inputs = withResidual ? tf.grads(f)([x, r]) : [tf.grad((xx: tf.Tensor) => f(xx, r))(x)];
      const { grads: g } = tf.variableGrads(() => f(x, r) as tf.Scalar, [bn.gamma, bn.beta]);
      return [...inputs, g[bn.gamma.name]!, g[bn.beta.name]!].map((t) => Array.from(t.dataSync()));
    });
    const out = tf.tidy(() => [forward(x, r, true), forward(x, r, false)].map((t) => Array.from(t.dataSync())));
    const stats = [bn.runningMean, bn.runningVar].map((v) => Array.from(v.dataSync()));
    tf.dispose([x, r, w]);
    store.dispose();
    return { out, grads, stats };
  }

  it.each([false, true])('one layer, with a residual: %s', (withResidual) => {
    const before = tf.memory().numTensors;
    const fused = layer(true, withResidual);
    const composed = layer(false, withResidual);
    expect(tf.memory().numTensors).toBe(before);
    expect(fusedBatchNormAvailable()).toBe(true);
    // the ReLU cut a fair share of the values, so the masks are exercised
    const zeros = fused.out[0]!.filter((v) => v === 0).length / fused.out[0]!.length;
    expect(zeros).toBeGreaterThan(0.2);
    expect(zeros).toBeLessThan(0.8);
    expect(fused.out).toEqual(composed.out);
    expect(fused.grads).toEqual(composed.grads);
    expect(fused.stats).toEqual(composed.stats);
  });

  // every net whose blocks pass a ReLU or a residual to batch norm: two SGD steps, then evaluation
  it.each(['resnet8', 'resnet50', 'wrn_16_1', 'vgg8', 'mobilenetv1', 'mobilenetv2', 'shufflenetv1', 'shufflenetv2', 'densenet40_12'])('%s: two training steps', (id) => {
    const trace = (fuse: boolean) => {
      BatchNorm.fuseTails = fuse;
      const m = createModel(id, { numClasses: 10, seed: 0, widthFactor: 0.25 });
      const x = tf.randomNormal([4, 32, 32, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
      const y = tf.oneHot(tf.tensor1d([1, 2, 3, 4], 'int32'), 10);
      const opt = tf.train.sgd(0.1);
      const seen: number[][] = [];
      for (let step = 0; step < 2; step++) {
        tf.tidy(() => {
          const { grads } = tf.variableGrads(() => {
            const r = m.forward(x, { training: true });
            r.features.forEach((f) => seen.push(Array.from(f.pre.dataSync()), Array.from(f.post.dataSync())));
            return tf.losses.softmaxCrossEntropy(y, r.logits) as tf.Scalar;
          }, m.trainableVariables());
          m.trainableVariables().forEach((v) => seen.push(Array.from(grads[v.name]!.dataSync())));
          opt.applyGradients(grads);
        });
      }
      seen.push(tf.tidy(() => Array.from(m.forward(x, { training: false }).logits.dataSync())));
      tf.dispose([x, y]);
      opt.dispose();
      m.dispose();
      return seen;
    };
    const fused = trace(true);
    const composed = trace(false);
    expect(fused.length).toBe(composed.length);
    fused.forEach((values, i) => expect(values, `tensor ${i}`).toEqual(composed[i]));
  });

  // forwardFrom fuses every block's tail, where forward keeps each stage's last preact
  it.each(['resnet8', 'resnet50', 'mobilenetv1'])('%s: forwardFrom in training mode gives the forward pass, bit for bit', (id) => {
    const m = createModel(id, { numClasses: 10, seed: 0, widthFactor: 0.25 });
    const x = tf.randomNormal([4, 32, 32, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    tf.tidy(() => {
      const full = m.forward(x, { training: true });
      const logits = Array.from(full.logits.dataSync());
      for (let from = 0; from < full.features.length - 1; from++) {
        expect(Array.from(m.forwardFrom!(from, full.features[from]!.post, { training: true }).logits.dataSync()), `from ${from}`).toEqual(logits);
      }
    });
    x.dispose();
    m.dispose();
  });
});

/**
 * Every family's fused call sites (ReLU and residual folded into batch norm, a stage's preact kept
 * only for its last block) on wasm with the native kernels, against the same nets on the cpu
 * backend, which composes everything from ops: the stage features of a training forward and the
 * last stage's output in evaluation mode (each
 * within 5e-4 of its largest value) and the gradients of every variable (relative L2 distance of
 * all of them within 2e-3). The bounds are loose because on four images a narrow net has
 * pre-activations within rounding of zero (whole channels of them where a channel is constant over
 * the batch), and the two backends' rounding puts them on different sides of the ReLU's kink:
 * measured below 1e-6 (resnet8) to about 1e-3 (shufflenetv1). A misplaced ReLU or a lost residual gradient
 * moves the gradients by order 1. The zoo's later nets (MobileNetV1, DenseNet, the bottleneck ResNets) are
 * covered by the bit-identity test above instead: at x0.25 on four images MobileNetV1's and
 * ResNet-50's gradients differ from the cpu backend's by 1.2e-2 and 6e-3 (fused or composed alike),
 * and DenseNet-40 takes half a minute on the cpu backend.
 */
describe.skipIf(!nativeStatus().loaded)('fused batch-norm call sites against the cpu backend', () => {
  function features(id: string, backend: 'wasm' | 'cpu') {
    return async () => {
      await initEngine({ backend });
      const m = createModel(id, { numClasses: 10, seed: 0, widthFactor: 0.25 });
      const x = tf.randomNormal([4, 32, 32, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
      const y = tf.oneHot(tf.tensor1d([1, 2, 3, 4], 'int32'), 10);
      const before = tf.memory().numTensors;
      let feats: Float32Array[] = [];
      const grads = tf.tidy(() => {
        const { grads: g } = tf.variableGrads(() => {
          const r = m.forward(x, { training: true });
          feats = r.features.flatMap((f) => [f.pre.dataSync() as Float32Array, f.post.dataSync() as Float32Array]);
          return tf.losses.softmaxCrossEntropy(y, r.logits) as tf.Scalar;
        }, m.trainableVariables());
        return m.trainableVariables().map((v) => g[v.name]!.dataSync() as Float32Array);
      });
      // evaluation mode (running statistics after that step): the per-channel affine kernel on wasm
      feats.push(tf.tidy(() => m.forward(x, { training: false }).features.at(-1)!.post.dataSync() as Float32Array));
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x, y]);
      m.dispose();
      return { feats, grads };
    };
  }

  it.each(['resnet8', 'wrn_16_1', 'vgg8', 'mobilenetv2', 'shufflenetv1', 'shufflenetv2'])('%s', async (id) => {
    const got = await features(id, 'wasm')();
    expect(fusedBatchNormAvailable()).toBe(true);
    const want = await features(id, 'cpu')();
    expect(got.feats.length).toBe(want.feats.length);
    got.feats.forEach((f, i) => {
      const w = want.feats[i]!;
      const scale = w.reduce((a, v) => Math.max(a, Math.abs(v)), 1e-6);
      expect(f.reduce((a, v, j) => Math.max(a, Math.abs(v - w[j]!)), 0) / scale, `feature ${i}`).toBeLessThan(5e-4);
    });
    let diff = 0;
    let norm = 0;
    got.grads.forEach((g, i) => g.forEach((v, j) => {
      diff += (v - want.grads[i]![j]!) ** 2;
      norm += want.grads[i]![j]! ** 2;
    }));
    expect(Math.sqrt(diff / norm)).toBeLessThan(2e-3);
  });
});
