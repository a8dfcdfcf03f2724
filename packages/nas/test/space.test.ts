import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, tf } from '@kdbench/engine';
import { createModel, createSearchableModel, genomeCounts, genomeKey, type SearchGenome } from '@kdbench/models';
import { CIFAR_SPACE, fits, measureFor, mutateGenome, sampleGenome, spaceSize, type Budget } from '../src/space.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const resnet8: SearchGenome = {
  stages: [16, 32, 64].map((width) => ({ depth: 1, width, block: 'basic' as const, kernel: 3 })),
};

describe('search space counts', () => {
  // stem: 3x3 conv 3->2 at 32x32: 54 params, 1024*2*27 = 55296 MACs; BN 4
  // stage 1, basic k3, 2->2 at 32x32: two convs of 36 params and 1024*2*2*9 = 36864 MACs; BNs 4+4
  // stage 2, bottleneck k5, 2->4, mid round(4/4) = 1, stride 2 (16x16):
  //   1x1 2->1 at 32x32: 2 params, 1024*2 = 2048 MACs; BN 2
  //   5x5 1->1 stride 2: 25 params, 256*25 = 6400 MACs; BN 2
  //   1x1 1->4 at 16x16: 4 params, 256*4 = 1024 MACs; BN 8
  //   shortcut 1x1 2->4 stride 2: 8 params, 256*8 = 2048 MACs; BN 8
  // head 4->3: 15 params, 12 MACs
  // params 58 + 80 + 59 + 15 = 212; MACs 55296 + 73728 + 11520 + 12 = 140556
  const tiny: SearchGenome = {
    stages: [{ depth: 1, width: 2, block: 'basic', kernel: 3 }, { depth: 1, width: 4, block: 'bottleneck', kernel: 5 }],
  };

  it('counts a tiny genome exactly (by hand) and as the built model does', () => {
    expect(genomeCounts(tiny, 3)).toEqual({ params: 212, macs: 140556 });
    const m = createSearchableModel(tiny, { numClasses: 3, seed: 0 });
    expect({ params: m.paramCount(), macs: m.flops() }).toEqual({ params: 212, macs: 140556 });
    const x = tf.zeros([2, 32, 32, 3]) as tf.Tensor4D;
    const out = m.forward(x, { training: false });
    expect(out.logits.shape).toEqual([2, 3]);
    expect(out.features.map((f) => f.post.shape)).toEqual([[2, 32, 32, 2], [2, 32, 32, 2], [2, 16, 16, 4]]);
    expect(m.featureShapes().map((s) => s.channels)).toEqual([2, 2, 4, 4]);
    tf.dispose([x, out.logits, out.embedding, ...out.features.flatMap((f) => [f.pre, f.post])]);
    m.dispose();
  });

  it('contains resnet8: same counts and variable names as the zoo model, at every width factor', () => {
    for (const widthFactor of [1, 0.5]) {
      const zoo = createModel('resnet8', { numClasses: 10, seed: 0, widthFactor });
      const net = createSearchableModel(resnet8, { numClasses: 10, seed: 0, widthFactor });
      expect(genomeCounts(resnet8, 10, widthFactor)).toEqual({ params: zoo.paramCount(), macs: zoo.flops() });
      expect(net.namedVariables().map((v) => v.name)).toEqual(zoo.namedVariables().map((v) => v.name));
      zoo.dispose();
      net.dispose();
    }
    expect(genomeKey(resnet8)).toBe('b3x1w16-b3x1w32-b3x1w64');
  });

  it('counts deeper and wider genomes as the built model does', () => {
    const g: SearchGenome = {
      stages: [
        { depth: 2, width: 12, block: 'bottleneck', kernel: 5 },
        { depth: 3, width: 24, block: 'basic', kernel: 5 },
        { depth: 2, width: 48, block: 'bottleneck', kernel: 3 },
      ],
    };
    const m = createSearchableModel(g, { numClasses: 100, seed: 1, widthFactor: 0.5 });
    expect(genomeCounts(g, 100, 0.5)).toEqual({ params: m.paramCount(), macs: m.flops() });
    m.dispose();
  });

  it('rejects malformed genomes', () => {
    expect(() => genomeCounts({ stages: [{ depth: 0, width: 4, block: 'basic', kernel: 3 }] }, 10)).toThrow(/depth must be a positive integer/);
    expect(() => genomeCounts({ stages: [{ depth: 1, width: 4, block: 'basic', kernel: 4 }] }, 10)).toThrow(/kernel must be odd/);
    expect(() => genomeCounts({ stages: [] }, 10)).toThrow(/at least one stage/);
  });
});

describe('sampling and mutation within a budget', () => {
  const measure = measureFor(10, 0.5);
  const budget: Budget = { maxMacs: measure(resnet8).macs, maxParams: Infinity };

  it('samples only genomes within the budget, deterministically under a seed', () => {
    expect(spaceSize(CIFAR_SPACE)).toBe(60 ** 3);
    const rng = new Rng(1);
    const gs = Array.from({ length: 50 }, () => sampleGenome(CIFAR_SPACE, rng, budget, measure));
    for (const g of gs) expect(fits(measure(g), budget)).toBe(true);
    expect(new Set(gs.map(genomeKey)).size).toBeGreaterThan(30);
    const again = new Rng(1);
    expect(genomeKey(sampleGenome(CIFAR_SPACE, again, budget, measure))).toBe(genomeKey(gs[0]!));
    const params = { maxMacs: Infinity, maxParams: 5000 };
    for (let i = 0; i < 20; i++) expect(measure(sampleGenome(CIFAR_SPACE, rng, params, measure)).params).toBeLessThanOrEqual(5000);
  });

  it('throws when nothing fits', () => {
    expect(() => sampleGenome(CIFAR_SPACE, new Rng(0), { maxMacs: 10, maxParams: Infinity }, measure, 50)).toThrow(/no genome .* fits the budget/);
  });

  it('mutates one gene and stays within the budget', () => {
    const rng = new Rng(2);
    let g = sampleGenome(CIFAR_SPACE, rng, budget, measure);
    for (let i = 0; i < 100; i++) {
      const child = mutateGenome(g, CIFAR_SPACE, rng, budget, measure);
      expect(fits(measure(child), budget)).toBe(true);
      const changed = child.stages.flatMap((s, j) => (['depth', 'width', 'block', 'kernel'] as const).filter((k) => s[k] !== g.stages[j]![k]));
      expect(changed.length).toBeLessThanOrEqual(1);
      g = child;
    }
  });

  it('returns a copy of the parent when no mutation fits', () => {
    const minimal: SearchGenome = { stages: [8, 16, 32].map((width) => ({ depth: 1, width, block: 'basic' as const, kernel: 3 })) };
    const atLimit = { maxMacs: measure(minimal).macs, maxParams: measure(minimal).params };
    const child = mutateGenome(minimal, { ...CIFAR_SPACE, widths: [[8, 16], [16, 32], [32, 64]], blocks: ['basic'] }, new Rng(3), atLimit, measure);
    expect(genomeKey(child)).toBe(genomeKey(minimal));
    expect(child).not.toBe(minimal);
  });
});
