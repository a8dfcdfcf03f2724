import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@kdbench/engine';
import { createModel, listModels, type ForwardResult, type Model } from '../src/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** One net of every family built as a stem and stages of blocks (basic, bottleneck, plain, grouped, separable, shuffle). */
const STAGED = ['resnet14', 'resnet18', 'resnet50', 'plaincnn18', 'resnext29_8x64d', 'resnext50_32x4d', 'mobilenetv1', 'shufflenetv1'];

const disposeForward = (r: ForwardResult) => tf.dispose([r.logits, r.embedding, ...r.features.flatMap((f) => [f.pre, f.post])]);

function withModel(id: string, fn: (m: Model) => void, widthFactor = 0.25): void {
  const m = createModel(id, { numClasses: 5, seed: 3, widthFactor });
  try {
    fn(m);
  } finally {
    m.dispose();
  }
}

describe('Model.forwardFrom', () => {
  it.each(STAGED)('%s: running from every feature gives the full forward pass, bit for bit', (id) => {
    withModel(id, (m) => {
      const x = tf.randomNormal([1, 32, 32, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
      // training mode too for one net (batch statistics; same ops, so the same numbers)
      for (const training of id === 'resnet18' ? [false, true] : [false]) {
        const full = m.forward(x, { training });
        const logits = Array.from(full.logits.dataSync());
        const embedding = Array.from(full.embedding.dataSync());
        full.features.forEach((f, from) => {
          const out = m.forwardFrom!(from, f.post, { training });
          expect(Array.from(out.logits.dataSync())).toEqual(logits);
          expect(Array.from(out.embedding.dataSync())).toEqual(embedding);
          tf.dispose([out.logits, out.embedding]);
        });
        disposeForward(full);
      }
      x.dispose();
    }, 0.125);
  });

  it('passes gradients to its input, leaves nothing behind, refuses a bad feature index or shape', () => {
    withModel('resnet14', (m) => {
      const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
      const full = m.forward(x, { training: false });
      const h = full.features[1]!.post;
      const g = tf.grad((input: tf.Tensor) => tf.sum(m.forwardFrom!(1, input as tf.Tensor4D, { training: false }).logits))(h);
      expect(g.shape).toEqual(h.shape);
      expect(Array.from(g.dataSync()).some((v) => v !== 0)).toBe(true);
      g.dispose();
      const before = tf.memory().numTensors;
      tf.tidy(() => { m.forwardFrom!(2, full.features[2]!.post, { training: true }); });
      expect(tf.memory().numTensors).toBe(before);
      expect(() => m.forwardFrom!(4, h, { training: false })).toThrow(/feature index in 0\.\.3 \(stem, stage1, stage2, stage3\), got 4/);
      expect(() => m.forwardFrom!(2, h, { training: false })).toThrow(/forwardFrom\(2\) takes its 'stage2' feature \[B, H, W, 8\], got \[2,32,32,4\]/);
      disposeForward(full);
      x.dispose();
    });
  });

  it('is present exactly for the families built as stages of blocks', () => {
    const staged = new Set(['resnet', 'imagenet-resnet', 'plaincnn', 'resnext', 'mobilenetv1', 'shufflenetv1']);
    for (const spec of listModels().filter((s) => !/152|28_10|50_32|29_8|16_8|40_4|28_4/.test(s.id))) {
      withModel(spec.id, (m) => expect([spec.id, typeof m.forwardFrom]).toEqual([spec.id, staged.has(spec.family) ? 'function' : 'undefined']));
    }
  });
});

describe('Model.preReluNorms', () => {
  /** The checkpoint name of each returned gamma (or null). */
  const normNames = (m: Model) => {
    const byVar = new Map(m.namedVariables().map((n) => [n.variable, n.name]));
    return m.preReluNorms!().map((n) => (n ? [byVar.get(n.gamma), byVar.get(n.beta)] : null));
  };

  it('ResNets: the stem BN, then the last BN of each stage\'s last residual branch', () => {
    withModel('resnet14', (m) => {
      expect(normNames(m)).toEqual([
        ['bn1.weight', 'bn1.bias'], ['layer1.1.bn2.weight', 'layer1.1.bn2.bias'], ['layer2.1.bn2.weight', 'layer2.1.bn2.bias'], ['layer3.1.bn2.weight', 'layer3.1.bn2.bias'],
      ]);
    });
    withModel('resnet50', (m) => expect(normNames(m).map((n) => n?.[0])).toEqual(['bn1.weight', 'layer1.2.bn3.weight', 'layer2.3.bn3.weight', 'layer3.5.bn3.weight', 'layer4.2.bn3.weight']));
    withModel('plaincnn18', (m) => expect(normNames(m).map((n) => n?.[0])).toEqual(['bn1.weight', 'layer1.1.bn2.weight', 'layer2.1.bn2.weight', 'layer3.1.bn2.weight', 'layer4.1.bn2.weight']));
  });

  it("WRNs: none for the bare stem conv, then the BN that opens the next stage (the final BN last): each stage's `pre`", () => {
    withModel('wrn_16_2', (m) => {
      expect(normNames(m).map((n) => n?.[0] ?? null)).toEqual([null, 'block2.layer.0.bn1.weight', 'block3.layer.0.bn1.weight', 'bn1.weight']);
      // in eval mode with fresh running statistics (mean 0, var 1) that BN is gamma * x / sqrt(1 + eps) + beta;
      // give beta a value and check that it shows in the stage's pre but not in its post
      const beta = m.preReluNorms!()[3]!.beta;
      beta.assign(tf.fill(beta.shape, 0.75));
      const x = tf.randomNormal([1, 32, 32, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
      const r = m.forward(x, { training: false });
      const pre = r.features[3]!.pre.dataSync();
      const post = r.features[3]!.post.dataSync();
      pre.forEach((v, i) => expect(v).toBeCloseTo(post[i]! / Math.sqrt(1 + 1e-5) + 0.75, 4));
      disposeForward(r);
      x.dispose();
    });
  });

  it('is absent where no batch norm precedes the stage ReLUs in this form', () => {
    for (const id of ['vgg8', 'mobilenetv2', 'shufflenetv1', 'densenet40_12']) withModel(id, (m) => expect(m.preReluNorms).toBeUndefined());
  });
});
