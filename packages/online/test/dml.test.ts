import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@kdbench/engine';
import { ConfigError } from '@kdbench/core';
import { dml, mutualKL } from '../src/dml.js';
import { batch, expectGradients, leakOf, realContext, ref, stepIO, termValues, value } from './helpers.js';
import { metricsOf, disposeInstance } from '@kdbench/core/testing';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('dml (Zhang et al. 2018)', () => {
  it('mutual KL equals hand-computed values and holds the other peers fixed', () => {
    const z0 = tf.variable(tf.tensor2d([[1, 2, 0]]));
    const z1 = tf.variable(tf.tensor2d([[2, 0, 1]]));
    const z2 = tf.tensor2d([[0, 1, 3]]);
    // p = softmax(z): KL(p1 || p0) = 0.729908, KL(p0 || p1) = 0.995723, KL(p2 || p0) = 1.612939
    expect(value(mutualKL([z0, z1] as tf.Tensor2D[], 0))).toBeCloseTo(0.729908, 5);
    expect(value(mutualKL([z0, z1] as tf.Tensor2D[], 1))).toBeCloseTo(0.995723, 5);
    // three peers: the mean over the two others, (0.729908 + 1.612939) / 2
    expect(value(mutualKL([z0, z1, z2] as tf.Tensor2D[], 0))).toBeCloseTo(1.171424, 5);
    const { grads } = tf.variableGrads(() => mutualKL([z0, z1] as tf.Tensor2D[], 0), [z0, z1]);
    expect(tf.max(tf.abs(grads[z0.name]!)).dataSync()[0]).toBeGreaterThan(0);
    expect(grads[z1.name] === undefined || tf.max(tf.abs(grads[z1.name]!)).dataSync()[0] === 0).toBe(true);
    tf.dispose([z0, z1, z2, ...Object.values(grads)]);
  });

  it('gives each peer CE + KL to the others on real networks, with gradients into both peers, and no leak', () => {
    const { ctx, student } = realContext(dml);
    const inst = dml.create(ctx);
    const peer = inst.procedure!.networks!.peer1!;
    expect(peer.trainInMain).toBe(true);
    expect(peer.model.id).toBe('resnet8');
    const b = batch();
    const t = termValues(() => inst.losses(stepIO(student, b)));
    expect(Object.keys(t).sort()).toEqual(['ce', 'kl', 'peer1/ce', 'peer1/kl']);
    // reference: the two networks' logits on the same batch (training-mode batch statistics)
    const [s, p] = tf.tidy(() => [student.forward(b.x, { training: true }).logits, peer.model.forward(b.x, { training: true }).logits]).map(ref.rows);
    const y = [1, 4, 1, 7];
    const mean = (f: (i: number) => number) => ref.mean(y.map((_, i) => f(i)));
    expect(t.ce).toBeCloseTo(mean((i) => ref.ce(s![i]!, y[i]!)), 4);
    expect(t['peer1/ce']).toBeCloseTo(mean((i) => ref.ce(p![i]!, y[i]!)), 4);
    expect(t.kl).toBeCloseTo(mean((i) => ref.kl(ref.softmax(p![i]!), ref.softmax(s![i]!))), 4);
    expect(t['peer1/kl']).toBeCloseTo(mean((i) => ref.kl(ref.softmax(s![i]!), ref.softmax(p![i]!))), 4);
    expectGradients(() => inst.losses(stepIO(student, b)), [...student.trainableVariables(), ...peer.model.trainableVariables()], 'dml');
    expect(leakOf(inst, () => inst.losses(stepIO(student, b)))).toBe(0);
    const acc = metricsOf(inst, (m) => ({ top1: m === student ? 10 : 20, top5: 0 }));
    expect(acc).toEqual({ peer0: 10, peer1: 20 });
    disposeInstance(inst);
    student.dispose();
    tf.dispose([b.x, b.labels]);
  });

  it('builds peers of another architecture and is reproducible under a seed', () => {
    const run = () => {
      const { ctx, student } = realContext(dml, { peers: 3, peer: 'resnet14' });
      const inst = dml.create(ctx);
      expect(Object.keys(inst.procedure!.networks!)).toEqual(['peer1', 'peer2']);
      expect(inst.procedure!.networks!.peer2!.model.id).toBe('resnet14');
      const b = batch(3);
      const t = termValues(() => inst.losses(stepIO(student, b)));
      disposeInstance(inst);
      student.dispose();
      tf.dispose([b.x, b.labels]);
      return t;
    };
    const a = run();
    expect(Object.keys(a)).toHaveLength(6);
    expect(run()).toEqual(a);
  });

  it('rejects fewer than two peers and cites its paper', () => {
    const { ctx, student } = realContext(dml, { peers: 1 });
    expect(() => dml.create(ctx)).toThrow(/peers must be an integer >= 2/);
    expect(() => dml.create(ctx)).toThrow(ConfigError);
    student.dispose();
    expect(dml.paper?.url).toContain('1706.00384');
    expect(dml.defaults.weight).toBe(1);
    expect([dml.family, dml.scheme, dml.teacher]).toEqual(['online', 'online', 'none']);
  });
});
