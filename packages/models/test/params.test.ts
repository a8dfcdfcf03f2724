import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@kdbench/engine';
import { createModel, listModels, type Model } from '../src/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const made: Model[] = [];
function make(id: string, widthFactor = 1, numClasses = 100): Model {
  const m = createModel(id, { numClasses, seed: 0, widthFactor });
  made.push(m);
  return m;
}
afterEach(() => {
  while (made.length) made.pop()!.dispose();
});

const ALL_IDS = [
  'resnet8', 'resnet14', 'resnet20', 'resnet26', 'resnet32', 'resnet44', 'resnet56', 'resnet110',
  'resnet8x4', 'resnet32x4', 'wrn_16_1', 'wrn_16_2', 'wrn_40_1', 'wrn_40_2', 'vgg8', 'vgg11', 'vgg13',
  'mobilenetv2', 'shufflenetv1', 'shufflenetv2',
];

/** Published CIFAR-100 counts (millions, as tabulated) the brief asks us to meet within 2%. */
const PUBLISHED_M: Record<string, number> = {
  resnet8: 0.08, resnet20: 0.28, resnet56: 0.86, resnet110: 1.74, resnet8x4: 1.23, resnet32x4: 7.43,
  wrn_40_2: 2.26, wrn_16_2: 0.7, wrn_40_1: 0.57, vgg13: 9.46, vgg8: 3.96, mobilenetv2: 0.81,
  shufflenetv1: 0.95, shufflenetv2: 1.36,
};

/** Exact counts of the RepDistiller definitions (100 classes), derived by hand from the shapes. */
const EXACT: Record<string, number> = {
  resnet8: 83_892, resnet20: 278_324, resnet56: 861_620, resnet110: 1_736_564, resnet8x4: 1_233_540,
  resnet32x4: 7_433_860, wrn_40_2: 2_255_156, wrn_16_2: 703_284, wrn_40_1: 569_780, vgg13: 9_462_180,
  vgg8: 3_965_028, mobilenetv2: 812_836, shufflenetv1: 949_258, shufflenetv2: 1_355_528,
};

describe('model registry', () => {
  it('lists every CRD-benchmark id once', () => {
    expect(listModels().map((s) => s.id)).toEqual(ALL_IDS);
  });

  it('unknown ids and bad options throw clear errors', () => {
    expect(() => createModel('resnet9', { numClasses: 10, seed: 0 })).toThrow(/Unknown model id 'resnet9'.*resnet8, resnet14/);
    expect(() => createModel('resnet8', { numClasses: 0, seed: 0 })).toThrow(/numClasses must be a positive integer/);
    expect(() => createModel('resnet8', { numClasses: 2.5, seed: 0 })).toThrow(/numClasses/);
    expect(() => createModel('resnet8', { numClasses: 10, seed: 0, widthFactor: 0 })).toThrow(/widthFactor/);
    expect(() => createModel('resnet8', { numClasses: 10, seed: 0, widthFactor: Number.NaN })).toThrow(/widthFactor/);
    expect(() => createModel('resnet8', { numClasses: 10, seed: Number.NaN })).toThrow(/seed/);
  });

  it('options are normalised (widthFactor defaults to 1)', () => {
    expect(make('resnet8').options).toEqual({ numClasses: 100, seed: 0, widthFactor: 1 });
  });
});

describe('parameter counts (100 classes, full width)', () => {
  for (const [id, millions] of Object.entries(PUBLISHED_M)) {
    it(`${id} ≈ ${millions}M`, () => {
      const spec = listModels().find((s) => s.id === id)!;
      expect(spec.publishedParams?.count).toBe(millions * 1e6);
      expect(spec.publishedParams?.source).toMatch(/RepDistiller/);
      const n = make(id).paramCount();
      expect(n).toBe(EXACT[id]);
      // within 2%, or (resnet8's 0.08M is given to one significant digit) equal after rounding
      const within2pct = Math.abs(n / (millions * 1e6) - 1) <= 0.02;
      const sameRounded = (n / 1e6).toFixed(2) === millions.toFixed(2);
      expect(within2pct || sameRounded, `${id}: ${n}`).toBe(true);
      if (id !== 'resnet8') expect(within2pct, `${id}: ${n}`).toBe(true);
    });
  }

  it('paramCount excludes BN running statistics; namedVariables includes them', () => {
    const m = make('resnet8');
    const named = m.namedVariables();
    const stats = named.filter((v) => !v.trainable);
    expect(stats.length).toBeGreaterThan(0);
    expect(stats.every((v) => /running_(mean|var)$/.test(v.name))).toBe(true);
    const trainable = named.filter((v) => v.trainable).reduce((n, v) => n + v.variable.size, 0);
    expect(m.paramCount()).toBe(trainable);
    expect(m.trainableVariables().length).toBe(named.length - stats.length);
    expect(new Set(named.map((v) => v.name)).size).toBe(named.length);
    expect(named.map((v) => v.name)).toContain('layer2.0.downsample.0.weight');
  });

  it('numClasses changes only the head', () => {
    expect(make('resnet20', 1, 100).paramCount() - make('resnet20', 1, 10).paramCount()).toBe(90 * 64 + 90);
  });
});

describe('MACs', () => {
  it('match analytic counts for resnet8 and are positive everywhere', () => {
    // stem 32*32*16*27 + layer1 2*(32*32*16*144) + layer2 (16*16*32*144 + 16*16*32*288 + 16*16*32*16)
    // + layer3 (8*8*64*288 + 8*8*64*576 + 8*8*64*32) + fc 64*100
    const expected =
      32 * 32 * 16 * 27 + 2 * 32 * 32 * 16 * 144 + 16 * 16 * 32 * (144 + 288 + 16) + 8 * 8 * 64 * (288 + 576 + 32) + 6400;
    expect(make('resnet8').flops()).toBe(expected);
    for (const id of ALL_IDS) expect(make(id, 0.25).flops()).toBeGreaterThan(0);
  });
  it('resnet32x4 is about 1.08 GMACs', () => {
    expect(make('resnet32x4').flops() / 1e9).toBeCloseTo(1.08, 2);
  });
});

describe('widthFactor', () => {
  it('scales channel counts and keeps group constraints valid', () => {
    for (const wf of [0.05, 0.1, 0.25, 0.33, 0.5, 0.77, 1.5]) {
      for (const id of ['shufflenetv1', 'shufflenetv2', 'mobilenetv2', 'wrn_16_2', 'resnet8x4', 'vgg8']) {
        const m = make(id, wf, 10);
        expect(m.paramCount(), `${id}@${wf}`).toBeGreaterThan(0);
      }
    }
    expect(make('resnet20', 0.5).featureShapes().map((s) => s.channels)).toEqual([8, 8, 16, 32, 32]);
    expect(make('shufflenetv1', 0.25).featureShapes().map((s) => s.channels)).toEqual([12, 60, 120, 240, 240]);
  });
});
