import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@kdbench/engine';
import { ConfigError, sharedConvs } from '@kdbench/core';
import { rocket } from '../src/rocket.js';
import { batch, expectGradients, leakOf, realContext, ref, stepIO, termValues } from './helpers.js';
import { disposeInstance, metricsOf } from '@kdbench/core/testing';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('rocket (Zhou et al. 2018)', () => {
  it('builds the booster on the light net\'s convs (interval) or its stem conv only (none)', () => {
    const { ctx, student } = realContext(rocket, {}, { student: 'wrn_16_1' });
    const inst = rocket.create(ctx);
    const booster = inst.procedure!.networks!.booster!;
    expect(booster.trainInMain).toBe(true);
    expect(booster.model.id).toBe('wrn_40_1');
    const boosterVars = new Set(booster.model.trainableVariables());
    const convs = sharedConvs(student, 'interval', 'rocket');
    // stem + 2 blocks x 2 convs in each of 3 stages + the 1x1 shortcuts of stages 2 and 3
    expect(convs.map((nv) => nv.name)).toContain('block3.layer.1.conv2.weight');
    expect(convs.length).toBe(15);
    expect(convs.every((nv) => boosterVars.has(nv.variable))).toBe(true);
    // batch norms and the classifier are the light net's own
    const own = student.namedVariables().filter((nv) => !convs.includes(nv));
    expect(own.some((nv) => boosterVars.has(nv.variable))).toBe(false);
    expect(sharedConvs(student, 'none', 'rocket').map((nv) => nv.name)).toEqual(['conv1.weight']);
    expect(() => sharedConvs(student, 'bottom', 'rocket')).toThrow(/rocket: share must be 'interval' or 'none', got 'bottom'/);
    disposeInstance(inst);
    expect(convs.every((nv) => !nv.variable.isDisposed)).toBe(true); // the booster does not free the light net's convs
    student.dispose();
  });

  it('gives CE on both nets and the hint, as a loop does; gradients reach both nets; no leak; reports the booster', () => {
    const { ctx, student } = realContext(rocket, {}, { student: 'wrn_16_1' });
    const inst = rocket.create(ctx);
    const booster = inst.procedure!.networks!.booster!.model;
    const b = batch();
    const t = termValues(() => inst.losses(stepIO(student, b)));
    expect(Object.keys(t).sort()).toEqual(['booster/ce', 'ce', 'hint']);
    const [l, z] = tf.tidy(() => [student.forward(b.x, { training: true }).logits, booster.forward(b.x, { training: true }).logits]).map(ref.rows);
    const y = [1, 4, 1, 7];
    expect(t.ce).toBeCloseTo(ref.mean(y.map((c, i) => ref.ce(l![i]!, c))), 4);
    expect(t['booster/ce']).toBeCloseTo(ref.mean(y.map((c, i) => ref.ce(z![i]!, c))), 4);
    const sq = l!.reduce((acc, row, i) => acc + row.reduce((a, v, c) => a + (z![i]![c]! - v) ** 2, 0), 0);
    expect(t.hint).toBeCloseTo((0.03 * sq) / ctx.batchSize, 5);
    expectGradients(() => inst.losses(stepIO(student, b)), [...student.trainableVariables(), ...booster.trainableVariables()], 'rocket');
    expect(leakOf(inst, () => inst.losses(stepIO(student, b)))).toBe(0);
    expect(metricsOf(inst, (m) => ({ top1: m === booster ? 42 : 0, top5: 0 }))).toEqual({ booster: 42 });
    disposeInstance(inst);
    student.dispose();
    tf.dispose([b.x, b.labels]);
  });

  it('is reproducible under a seed', () => {
    const run = () => {
      const { ctx, student } = realContext(rocket, {}, { student: 'wrn_16_1', seed: 4 });
      const inst = rocket.create(ctx);
      const b = batch(3);
      const t = termValues(() => inst.losses(stepIO(student, b)));
      disposeInstance(inst);
      student.dispose();
      tf.dispose([b.x, b.labels]);
      return t;
    };
    expect(run()).toEqual(run());
  });

  it('refuses a negative gamma, an unknown share and a booster that cannot take the light net\'s convs, allocating nothing', () => {
    const bad = (over: Record<string, unknown>, student: string, message: RegExp) => {
      const { ctx, student: s } = realContext(rocket, over as never, { student });
      const before = tf.memory().numTensors;
      expect(() => rocket.create(ctx)).toThrow(message);
      expect(() => rocket.create(ctx)).toThrow(ConfigError); // a usage error (exit 2), not an internal one
      expect(tf.memory().numTensors).toBe(before);
      s.dispose();
    };
    bad({ gamma: -1 }, 'wrn_16_1', /rocket: gamma must be >= 0, got -1/);
    bad({ share: 'bottom' }, 'wrn_16_1', /share must be 'interval' or 'none'/);
    bad({ booster: 'resnet14' }, 'wrn_16_1', /rocket: the booster resnet14 cannot share the light net wrn_16_1's convs: .*block1.layer.0.conv1.weight/);
    bad({ booster: 'wrn_40_2' }, 'wrn_16_1', /rocket: the booster wrn_40_2 cannot share .*shared variable 'block1.layer.0.conv1.weight' has shape/);
  });
});
