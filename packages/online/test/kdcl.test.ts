import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@kdbench/engine';
import { kdcl, minLogitEnsemble, naiveEnsemble } from '../src/kdcl.js';
import { batch, expectGradients, leakOf, realContext, ref, stepIO, termValues } from './helpers.js';
import { metricsOf, disposeInstance } from '@kdbench/core/testing';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('kdcl (Guo et al. 2020)', () => {
  it('builds the MinLogit and Naive ensembles as computed by hand', () => {
    const z0 = tf.tensor2d([[1, 2, 0], [0, 0, 3]]);
    const z1 = tf.tensor2d([[2, 0, 1], [1, 2, 1]]);
    const y = tf.tensor1d([1, 2], 'int32');
    // row 0, label 1: [1,2,0]-2 = [-1,0,-2], [2,0,1]-0 = [2,0,1] -> min [-1,0,-2]
    // row 1, label 2: [0,0,3]-3 = [-3,-3,0], [1,2,1]-1 = [0,1,0] -> min [-3,-3,0]
    expect(ref.rows(minLogitEnsemble([z0, z1], y))).toEqual([[-1, 0, -2], [-3, -3, 0]]);
    expect(ref.rows(naiveEnsemble([z0, z1]))).toEqual([[1.5, 1, 0.5], [0.5, 1, 2]]);
    tf.dispose([z0, z1, y]);
  });

  it('distils every peer from the fixed ensemble teacher with CE + T^2 KL, as a loop does', () => {
    const { ctx, student } = realContext(kdcl, { peer: 'resnet14' });
    const inst = kdcl.create(ctx);
    const peer = inst.procedure!.networks!.peer1!.model;
    expect(peer.id).toBe('resnet14');
    const b = batch();
    const t = termValues(() => inst.losses(stepIO(student, b)));
    expect(Object.keys(t).sort()).toEqual(['ce', 'kl', 'peer1/ce', 'peer1/kl']);
    const [s, p] = tf.tidy(() => [student.forward(b.x, { training: true }).logits, peer.forward(b.x, { training: true }).logits]).map(ref.rows);
    const y = [1, 4, 1, 7];
    const teacher = y.map((c, i) => s![i]!.map((_, j) => Math.min(s![i]![j]! - s![i]![c]!, p![i]![j]! - p![i]![c]!)));
    const T = 2;
    const klOf = (z: number[][]) => ref.mean(y.map((_, i) => T * T * ref.kl(ref.softmax(teacher[i]!, T), ref.softmax(z[i]!, T))));
    expect(t.kl).toBeCloseTo(klOf(s!), 4);
    expect(t['peer1/kl']).toBeCloseTo(klOf(p!), 4);
    expect(t.ce).toBeCloseTo(ref.mean(y.map((c, i) => ref.ce(s![i]!, c))), 4);
    expectGradients(() => inst.losses(stepIO(student, b)), [...student.trainableVariables(), ...peer.trainableVariables()], 'kdcl');
    expect(leakOf(inst, () => inst.losses(stepIO(student, b)))).toBe(0);
    const acc = metricsOf(inst, (m) => ({ top1: m === student ? 1 : m === peer ? 2 : 3, top5: 0 }));
    expect(acc).toEqual({ peer0: 1, peer1: 2, ensemble: 3 });
    disposeInstance(inst);
    student.dispose();
    tf.dispose([b.x, b.labels]);
  });

  it('holds the ensemble teacher fixed: the student\'s KL term sends no gradient into the other peer', () => {
    const { ctx, student } = realContext(kdcl, { ensemble: 'naive' });
    const inst = kdcl.create(ctx);
    const peerVars = inst.procedure!.networks!.peer1!.model.trainableVariables();
    const b = batch(4);
    tf.tidy(() => {
      const { grads } = tf.variableGrads(() => inst.losses(stepIO(student, b)).kl!, [...peerVars, ...student.trainableVariables()]);
      const into = (vars: tf.Variable[]) => vars.reduce((m, v) => Math.max(m, grads[v.name] ? tf.max(tf.abs(grads[v.name]!)).dataSync()[0]! : 0), 0);
      expect(into(peerVars)).toBe(0);
      expect(into(student.trainableVariables())).toBeGreaterThan(0);
    });
    disposeInstance(inst);
    student.dispose();
    tf.dispose([b.x, b.labels]);
  });

  it('rejects an unknown ensemble and cites its paper', () => {
    const { ctx, student } = realContext(kdcl, { ensemble: 'linear' });
    expect(() => kdcl.create(ctx)).toThrow(/ensemble must be 'minlogit' or 'naive'/);
    student.dispose();
    expect(kdcl.paper?.year).toBe(2020);
    expect(kdcl.deviations).toMatch(/same augmented batch/);
  });
});
