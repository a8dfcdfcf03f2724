import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@kdbench/engine';
import type { Model } from '@kdbench/models';
import { byot, hintLoss, softKL, type SelfDistillationHeads } from '../src/byot.js';
import { batch, expectGradients, leakOf, realContext, ref, stepIO, termValues, value } from './helpers.js';
import { varsOf, metricsOf, buffersOf, disposeInstance } from '@kdbench/core/testing';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('byot (Zhang et al. 2019)', () => {
  it('uses the KL without the T^2 factor (hand-computed)', () => {
    const s = tf.tensor2d([[1, 2, 0]]);
    const t = tf.tensor2d([[2, 0, 1]]);
    // KL(softmax([2,0,1]/2) || softmax([1,2,0]/2)) = 0.220514
    expect(value(softKL(s, t, 2))).toBeCloseTo(0.220514, 5);
    tf.dispose([s, t]);
  });

  it('hint forms by hand: pooled features (default) and whole maps', () => {
    // one image, 2x2 map, 2 channels; head channel 0 = [1, 2, 3, 4], channel 1 = [0, 0, 0, 2]; deepest all ones
    const head = tf.tensor4d([[[[1, 0], [2, 0]], [[3, 0], [4, 2]]]]);
    const deepest = tf.onesLike(head) as tf.Tensor4D;
    // pooled: channel means (2.5, 0.5) - (1, 1) = (1.5, -0.5): 2.25 + 0.25 = 2.5
    expect(value(hintLoss(head, deepest))).toBeCloseTo(2.5, 6);
    expect(value(hintLoss(head, deepest, 'pooled'))).toBeCloseTo(2.5, 6);
    // map: channel 0 differences 0, 1, 2, 3 -> 0 + 1 + 4 + 9 = 14; channel 1: -1, -1, -1, 1 -> 4; total 18
    expect(value(hintLoss(head, deepest, 'map'))).toBeCloseTo(18, 6);
    // a batch of two sums over the batch: the second image equal to the deepest adds nothing
    const two = tf.concat([head, deepest]) as tf.Tensor4D;
    expect(value(hintLoss(two, tf.onesLike(two) as tf.Tensor4D))).toBeCloseTo(2.5, 6);
    expect(value(hintLoss(two, tf.onesLike(two) as tf.Tensor4D, 'map'))).toBeCloseTo(18, 6);
    tf.dispose([head, deepest, two]);
  });

  it('builds a bottleneck head on each shallow stage, reaching the deepest stage\'s map', () => {
    const { ctx, student } = realContext(byot);
    const inst = byot.create(ctx);
    const heads = inst.parts!.byot as SelfDistillationHeads;
    const b = batch();
    const shapes = tf.tidy(() => {
      const out = student.forward(b.x, { training: true });
      const { maps, logits } = heads.apply([out.features[1]!.post, out.features[2]!.post], true);
      return [...maps.map((m) => m.shape), ...logits.map((l) => l.shape), out.features[3]!.post.shape];
    });
    // resnet8 x0.25: stage3 is 8x8x16; both heads end there, then 10 logits
    expect(shapes).toEqual([[4, 8, 8, 16], [4, 8, 8, 16], [4, 10], [4, 10], [4, 8, 8, 16]]);
    disposeInstance(inst);
    student.dispose();
    tf.dispose([b.x, b.labels]);
  });

  it('weighs CE, KL to the deepest classifier and the feature hint per head, as a loop computes them', () => {
    const { ctx, student } = realContext(byot);
    const inst = byot.create(ctx);
    const heads = inst.parts!.byot as SelfDistillationHeads;
    const b = batch(1);
    const t = termValues(() => inst.losses(stepIO(student, b)));
    expect(Object.keys(t).sort()).toEqual(['ce', 'head1/ce', 'head1/hint', 'head1/kl', 'head2/ce', 'head2/hint', 'head2/kl']);
    const [deep, z1, , pooledSq, mapSq] = tf.tidy(() => {
      const out = student.forward(b.x, { training: true });
      const { maps, logits } = heads.apply([out.features[1]!.post, out.features[2]!.post], true);
      const pool = (m: tf.Tensor4D) => tf.mean(m, [1, 2]);
      const deepestMap = out.features[3]!.post;
      return [
        out.logits, logits[0]!, logits[1]!,
        tf.sum(tf.square(tf.sub(pool(maps[0]!), pool(deepestMap)))).reshape([1, 1]),
        tf.sum(tf.squaredDifference(maps[0]!, deepestMap)).reshape([1, 1]),
      ];
    }).map(ref.rows);
    const y = [1, 4, 1, 7];
    const T = 3;
    expect(t.ce).toBeCloseTo(ref.mean(y.map((c, i) => ref.ce(deep![i]!, c))), 4);
    expect(t['head1/ce']).toBeCloseTo(0.7 * ref.mean(y.map((c, i) => ref.ce(z1![i]!, c))), 4);
    expect(t['head1/kl']).toBeCloseTo(0.3 * ref.mean(y.map((_, i) => ref.kl(ref.softmax(deep![i]!, T), ref.softmax(z1![i]!, T)))), 4);
    // the default hint is SCAN's: squared difference of the pooled features
    expect(t['head1/hint']).toBeCloseTo(5e-7 * pooledSq![0]![0]!, 9);
    expect(t['head1/hint']).toBeGreaterThan(0);
    disposeInstance(inst);
    // form 'map': the same heads (same seed) on the whole maps, a larger term
    const other = realContext(byot, { form: 'map' });
    const asMap = byot.create(other.ctx);
    const m = termValues(() => asMap.losses(stepIO(student, b)));
    expect(m['head1/hint']).toBeCloseTo(5e-7 * mapSq![0]![0]!, 7);
    expect(m['head1/hint']).toBeGreaterThan(t['head1/hint']!);
    expect(m['head1/ce']).toBeCloseTo(t['head1/ce']!, 6);
    disposeInstance(asMap);
    other.student.dispose();
    student.dispose();
    tf.dispose([b.x, b.labels]);
  });

  it('refuses an unknown hint form', () => {
    const { ctx, student } = realContext(byot, { form: 'sum' });
    expect(() => byot.create(ctx)).toThrow(/^byot: form must be one of pooled, map, got 'sum'$/);
    student.dispose();
  });

  it('trains trunk and heads, leaves the deepest classifier to its CE, checkpoints head statistics, no leak', () => {
    const { ctx, student } = realContext(byot);
    const inst = byot.create(ctx);
    const b = batch(2);
    const f = () => inst.losses(stepIO(student, b));
    expectGradients(f, [...student.trainableVariables(), ...varsOf(inst, 'byot')], 'byot');
    // the shallow heads' terms do not reach the deepest classifier (its logits and map are held fixed)
    const fc = student.namedVariables().filter((v) => v.name.startsWith('fc.')).map((v) => v.variable);
    tf.tidy(() => {
      const { grads } = tf.variableGrads(() => {
        const terms = f();
        return tf.addN(Object.entries(terms).filter(([k]) => k.startsWith('head')).map(([, v]) => v)) as tf.Scalar;
      }, [...fc, ...student.trainableVariables().slice(0, 1)]);
      for (const v of fc) expect(grads[v.name] ? tf.max(tf.abs(grads[v.name]!)).dataSync()[0] : 0).toBe(0);
      expect(tf.max(tf.abs(grads[student.trainableVariables()[0]!.name]!)).dataSync()[0]).toBeGreaterThan(0);
    });
    expect(Object.keys(buffersOf(inst)).filter((k) => k.endsWith('running_mean'))).toHaveLength(6);
    expect(leakOf(inst, f)).toBe(0);
    const seen: string[] = [];
    const acc = metricsOf(inst, (m: Model) => {
      seen.push(m.id);
      tf.tidy(() => {
        expect(m.forward(b.x, { training: false }).logits.shape).toEqual([4, 10]);
      });
      return { top1: 1, top5: 1 };
    });
    expect(seen).toEqual(['byot-head1', 'byot-head2', 'byot-ensemble']);
    expect(acc).toEqual({ head1: 1, head2: 1, ensemble: 1 });
    disposeInstance(inst);
    student.dispose();
    tf.dispose([b.x, b.labels]);
  });

  it('cites its paper and keeps the authors\' weights', () => {
    expect(byot.defaults).toEqual({ alpha: 0.3, T: 3, lambda: 5e-7, form: 'pooled' });
    expect(byot.hyperChoices).toEqual({ form: ['pooled', 'map'] });
    expect(byot.deviations).toContain('SCAN');
    expect(byot.paper?.url).toContain('1905.08094');
    expect([byot.family, byot.scheme]).toEqual(['self', 'self']);
  });
});
