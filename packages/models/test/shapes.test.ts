import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@kdbench/engine';
import { createModel, layers, listModels, modelCounts } from '../src/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Narrow enough that every net runs a batch-2 forward in well under a second on cpu. */
const NARROW: Record<string, number> = {
  resnet110: 0.25, resnet32x4: 0.125, wrn_40_2: 0.25, vgg11: 0.125, vgg13: 0.125, vgg8: 0.125, vgg16: 0.125,
  resnet18: 0.125, resnet34: 0.125, resnet50: 0.0625, resnet152: 0.0625, resnext50_32x4d: 0.0625, resnext29_8x64d: 0.0625,
  plaincnn18: 0.125, plaincnn34: 0.125, wrn_16_8: 0.125, wrn_28_4: 0.125, wrn_28_10: 0.05, wrn_40_4: 0.125, mobilenetv1: 0.125,
};

describe('forward shapes (batch 2)', () => {
  for (const spec of listModels()) {
    it(`${spec.id}: logits, features and embedding match featureShapes()`, () => {
      const widthFactor = NARROW[spec.id] ?? 0.25;
      const model = createModel(spec.id, { numClasses: 7, seed: 3, widthFactor });
      const shapes = model.featureShapes();
      const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
      for (const training of [true, false]) {
        tf.tidy(() => {
          const r = model.forward(x, { training });
          expect(r.logits.shape).toEqual([2, 7]);
          expect(r.features.map((f) => f.name)).toEqual(shapes.slice(0, -1).map((s) => s.name));
          r.features.forEach((f, i) => {
            const s = shapes[i]!;
            expect(f.pre.shape, `${f.name}.pre`).toEqual([2, s.height, s.width, s.channels]);
            expect(f.post.shape, `${f.name}.post`).toEqual([2, s.height, s.width, s.channels]);
          });
          const emb = shapes.at(-1)!;
          expect(emb.name).toBe('embedding');
          expect(r.embedding.shape).toEqual([2, emb.channels]);
          expect(Number.isFinite(r.logits.sum().dataSync()[0])).toBe(true);
          if (!training) {
            // the classifier is the affine map embedding -> logits, and one of the trainable variables
            const [w, b] = model.classifierVariables();
            expect([w!.shape, b!.shape]).toEqual([[emb.channels, 7], [7]]);
            expect(model.trainableVariables()).toEqual(expect.arrayContaining([w, b]));
            const again = tf.add(tf.matMul(r.embedding, w as tf.Tensor2D), b!);
            expect(tf.max(tf.abs(tf.sub(again, r.logits))).dataSync()[0]).toBeLessThan(1e-4);
          }
        });
      }
      x.dispose();
      model.dispose();
    });
  }

  it('full-width resnet8 runs and has the CRD feature layout', () => {
    const model = createModel('resnet8', { numClasses: 100, seed: 0 });
    expect(model.featureShapes().map((s) => [s.name, s.channels, s.height])).toEqual([
      ['stem', 16, 32],
      ['stage1', 16, 32],
      ['stage2', 32, 16],
      ['stage3', 64, 8],
      ['embedding', 64, 1],
    ]);
    tf.tidy(() => {
      const r = model.forward(tf.zeros([2, 32, 32, 3]) as tf.Tensor4D, { training: false });
      expect(r.logits.shape).toEqual([2, 100]);
      // post = relu(pre) for a post-activation ResNet
      const f = r.features[2]!;
      expect(tf.max(tf.abs(tf.sub(tf.relu(f.pre), f.post))).dataSync()[0]).toBe(0);
    });
    model.dispose();
  });

  it('published feature layouts (full width, no forward)', () => {
    const layout = (id: string) => {
      const m = createModel(id, { numClasses: 100, seed: 0 });
      const text = m.featureShapes().map((s) => `${s.channels}@${s.height}`).join(' ');
      m.dispose();
      return text;
    };
    expect(layout('resnet32x4')).toBe('32@32 64@32 128@16 256@8 256@1');
    expect(layout('wrn_40_2')).toBe('16@32 32@32 64@16 128@8 128@1');
    expect(layout('vgg13')).toBe('64@32 128@16 256@8 512@4 512@4 512@1');
    expect(layout('mobilenetv2')).toBe('16@16 12@16 16@8 48@4 160@2 1280@1');
    expect(layout('shufflenetv1')).toBe('24@32 240@16 480@8 960@4 960@1');
    expect(layout('shufflenetv2')).toBe('24@32 116@16 232@8 464@4 1024@1');
  });

  it('published feature layouts of the survey tables\' nets (full width, measured without weights)', () => {
    const layout = (id: string) => modelCounts(id, { numClasses: 100, seed: 0 }).featureShapes.map((s) => `${s.channels}@${s.height}`).join(' ');
    expect(layout('resnet18')).toBe('64@32 64@32 128@16 256@8 512@4 512@1');
    expect(layout('plaincnn34')).toBe('64@32 64@32 128@16 256@8 512@4 512@1');
    expect(layout('resnet50')).toBe('64@32 256@32 512@16 1024@8 2048@4 2048@1');
    expect(layout('resnet152')).toBe('64@32 256@32 512@16 1024@8 2048@4 2048@1');
    expect(layout('resnext50_32x4d')).toBe('64@32 256@32 512@16 1024@8 2048@4 2048@1');
    expect(layout('resnext29_8x64d')).toBe('64@32 256@32 512@16 1024@8 1024@1');
    expect(layout('wrn_28_10')).toBe('16@32 160@32 320@16 640@8 640@1');
    expect(layout('wrn_16_8')).toBe('16@32 128@32 256@16 512@8 512@1');
    expect(layout('densenet40_12')).toBe('16@32 160@32 304@16 448@8 448@1');
    expect(layout('mobilenetv1')).toBe('32@32 256@32 512@16 1024@8 1024@1');
    expect(layout('vgg16')).toBe('64@32 128@16 256@8 512@4 512@4 512@1');
    expect(layout('alexnet')).toBe('64@8 192@4 384@2 256@2 256@2 256@1');
  });

  it('pre/post relations follow RepDistiller per family', () => {
    const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
    const diff = (a: tf.Tensor, b: tf.Tensor) => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!;
    const check = (id: string, fn: (r: ReturnType<ReturnType<typeof createModel>['forward']>) => void) => {
      const m = createModel(id, { numClasses: 10, seed: 1, widthFactor: NARROW[id] ?? 0.25 });
      tf.tidy(() => fn(m.forward(x, { training: false })));
      m.dispose();
    };
    check('vgg8', (r) => r.features.forEach((f) => expect(diff(tf.relu(f.pre), f.post)).toBe(0)));
    for (const id of ['resnet18', 'resnet50', 'resnext29_8x64d', 'plaincnn18', 'mobilenetv1', 'alexnet']) {
      check(id, (r) => r.features.forEach((f) => expect(diff(tf.relu(f.pre), f.post), `${id} ${f.name}`).toBe(0)));
    }
    // DenseNet, like the WRNs: post is the dense block's output, pre the next BN of it
    check('densenet40_12', (r) => {
      expect(r.features[0]!.pre).toBe(r.features[0]!.post);
      for (const f of r.features.slice(1)) {
        expect(diff(f.pre, f.post)).toBeGreaterThan(0);
        expect(tf.min(f.pre).dataSync()[0]).toBeLessThan(0);
      }
    });
    check('shufflenetv1', (r) => r.features.forEach((f) => expect(diff(tf.relu(f.pre), f.post)).toBe(0)));
    check('mobilenetv2', (r) => r.features.slice(1).forEach((f) => expect(f.pre).toBe(f.post)));
    // ShuffleNetV2: post = shuffle(relu(pre)) (RepDistiller's preact is taken before the shuffle)
    check('shufflenetv2', (r) => {
      const f = r.features[3]!;
      expect(diff(layers.channelShuffle(tf.relu(f.pre), 2), f.post)).toBe(0);
    });
    // WRN: post is the raw residual sum, pre is the next BN of it (can be negative, differs from post)
    check('wrn_16_1', (r) => {
      const f = r.features[1]!;
      expect(diff(f.pre, f.post)).toBeGreaterThan(0);
      expect(tf.min(f.pre).dataSync()[0]).toBeLessThan(0);
      expect(r.features[0]!.pre).toBe(r.features[0]!.post);
    });
    x.dispose();
  });

  it('rejects inputs that are not NHWC RGB', () => {
    const model = createModel('resnet8', { numClasses: 10, seed: 0, widthFactor: 0.25 });
    const x = tf.zeros([2, 32, 32, 1]) as tf.Tensor4D;
    expect(() => model.forward(x, { training: false })).toThrow(/NHWC/);
    x.dispose();
    model.dispose();
  });
});
