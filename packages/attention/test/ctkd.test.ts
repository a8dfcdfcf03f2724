import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, methodContext, sharedConvs, type Hyper, type MethodContext } from '@kdbench/core';
import { Rng, tf } from '@kdbench/engine';
import { disposeInstance, fakeSplit, metricsOf } from '@kdbench/core/testing';
import { batch, expectGradients, leakOf, ref, stepIO, termValues } from '@kdbench/core/testing/steps';
import { createModel, type Model } from '@kdbench/models';
import { ctkd } from '../src/ctkd.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const made: Model[] = [];
afterEach(() => {
  made.splice(0).forEach((m) => m.dispose());
});

/** Student wrn_16_1 and expert wrn_40_1 (widths x0.25, 10 classes), configured batch size 8 (the test batches hold 4). */
function setup(over: Partial<typeof ctkd.defaults> = {}, seed = 0) {
  const student = createModel('wrn_16_1', { numClasses: 10, seed, widthFactor: 0.25 });
  const teacher = createModel('wrn_40_1', { numClasses: 10, seed: 100 + seed, widthFactor: 0.25 });
  made.push(student, teacher);
  const ctx = methodContext({
    hp: { ...ctkd.defaults, ...over } as Hyper, numClasses: 10, student, teacher, train: fakeSplit(20, 10), epochs: 8, batchSize: 8, rng: new Rng(seed),
  }) as MethodContext<typeof ctkd.defaults, 'required'>;
  return { ctx, student, teacher };
}

/** AT's map of one image by loops: mean over channels of f^2 at each position, L2-normalised. */
function mapByLoop(f: number[][][]): number[] {
  const q = f.flatMap((row) => row.map((px) => px.reduce((a, v) => a + v * v, 0) / px.length));
  const n = Math.sqrt(q.reduce((a, v) => a + v * v, 0));
  return q.map((v) => v / n);
}

describe('ctkd (Zhao et al. 2020)', () => {
  it('builds the scratch teacher of the expert\'s architecture on the student\'s stem conv (none) or on all its convs (interval)', () => {
    for (const share of ['none', 'interval'] as const) {
      const { ctx, student, teacher } = setup({ share });
      const inst = ctkd.create(ctx);
      const slot = inst.procedure!.networks!.scratch!;
      expect(slot.trainInMain).toBe(true);
      expect(slot.model.id).toBe('wrn_40_1');
      expect(slot.model.options.widthFactor).toBe(0.25);
      const scratchVars = new Set(slot.model.trainableVariables());
      const shared = sharedConvs(student, share, 'ctkd');
      expect(shared.length).toBe(share === 'none' ? 1 : 15);
      expect(shared.every((nv) => scratchVars.has(nv.variable))).toBe(true);
      expect(student.namedVariables().filter((nv) => !shared.includes(nv)).some((nv) => scratchVars.has(nv.variable))).toBe(false);
      // a fresh net, not the expert
      expect(teacher.trainableVariables().some((v) => scratchVars.has(v))).toBe(false);
      disposeInstance(inst);
      expect(shared.every((nv) => !nv.variable.isDisposed)).toBe(true);
    }
  });

  it('gives CE on the student and on the scratch teacher, the logit hint and beta x the attention loss against the expert, as loops do', () => {
    const { ctx, student, teacher } = setup({ beta: 1000, gamma: 0.03 });
    const inst = ctkd.create(ctx);
    const scratch = inst.procedure!.networks!.scratch!.model;
    const b = batch();
    const t = tf.tidy(() => {
      const exp = teacher.forward(b.x, { training: false });
      return termValues(() => inst.losses(stepIO(student, b, { teacher: exp }) as never));
    });
    expect(Object.keys(t).sort()).toEqual(['at', 'ce', 'hint', 'scratch/ce']);
    const y = [1, 4, 1, 7];
    const { zs, zsc, gsc, gex } = tf.tidy(() => {
      const s = student.forward(b.x, { training: true });
      const sc = scratch.forward(b.x, { training: true });
      const ex = teacher.forward(b.x, { training: false });
      const arr = (fs: readonly { post: tf.Tensor4D }[]) => fs.slice(1).map((f) => f.post.arraySync() as number[][][][]);
      return { zs: ref.rows(s.logits), zsc: ref.rows(sc.logits), gsc: arr(sc.features), gex: arr(ex.features) };
    });
    expect(t.ce).toBeCloseTo(ref.mean(y.map((c, i) => ref.ce(zs[i]!, c))), 4);
    expect(t['scratch/ce']).toBeCloseTo(ref.mean(y.map((c, i) => ref.ce(zsc[i]!, c))), 4);
    const sq = zs.reduce((acc, row, i) => acc + row.reduce((a, v, c) => a + (zsc[i]![c]! - v) ** 2, 0), 0);
    expect(t.hint).toBeCloseTo((0.03 * sq) / 8, 5); // the configured batch size divides, not the batch's own
    // the three stage outputs of the scratch teacher against the expert's, mean over (batch, positions), summed
    expect(gsc.length).toBe(3);
    let atSum = 0;
    gsc.forEach((stage, s) => {
      let sum = 0;
      let count = 0;
      stage.forEach((img, i) => {
        const qs = mapByLoop(img);
        const qt = mapByLoop(gex[s]![i]!);
        qs.forEach((v, k) => { sum += (v - qt[k]!) ** 2; count++; });
      });
      atSum += sum / count;
    });
    expect(atSum).toBeGreaterThan(0);
    expect(t.at! / 1000).toBeCloseTo(atSum, 6);
    disposeInstance(inst);
    tf.dispose([b.x, b.labels]);
  });

  it('trains both nets; the attention term reaches the student only through the shared stem (share none); no leak; reports the scratch teacher', () => {
    const { ctx, student, teacher } = setup();
    const inst = ctkd.create(ctx);
    const scratch = inst.procedure!.networks!.scratch!.model;
    const b = batch();
    const expert = teacher.forward(b.x, { training: false }); // outside the tape, as the trainer runs it
    const io = () => stepIO(student, b, { teacher: expert }) as never;
    expectGradients(() => inst.losses(io()), [...student.trainableVariables(), ...scratch.trainableVariables()], 'ctkd');
    const stem = sharedConvs(student, 'none', 'ctkd')[0]!.variable;
    const own = student.trainableVariables().filter((v) => v !== stem);
    const { grads } = tf.variableGrads(() => inst.losses(io()).at!, student.trainableVariables());
    const size = (v: tf.Variable) => (grads[v.name] ? tf.tidy(() => tf.max(tf.abs(grads[v.name]!)).dataSync()[0]!) : 0);
    expect(size(stem)).toBeGreaterThan(0);
    expect(own.length).toBeGreaterThan(10);
    expect(own.every((v) => size(v) === 0)).toBe(true);
    tf.dispose(Object.values(grads));
    expect(leakOf(inst, () => tf.tidy(() => inst.losses(io())))).toBe(0);
    expect(metricsOf(inst, (m) => ({ top1: m === scratch ? 37 : 0, top5: 0 }))).toEqual({ scratch: 37 });
    disposeInstance(inst);
    tf.dispose([b.x, b.labels, expert.logits, expert.embedding, ...expert.features.flatMap((f) => [f.pre, f.post])]);
  });

  it('is reproducible under a seed', () => {
    const run = () => {
      const { ctx, student, teacher } = setup({}, 4);
      const inst = ctkd.create(ctx);
      const b = batch(3);
      const t = tf.tidy(() => termValues(() => inst.losses(stepIO(student, b, { teacher: teacher.forward(b.x, { training: false }) }) as never)));
      disposeInstance(inst);
      tf.dispose([b.x, b.labels]);
      return t;
    };
    expect(run()).toEqual(run());
  });

  it('refuses negative weights, an unknown share and a scratch teacher that cannot take the student\'s convs, allocating nothing', () => {
    const bad = (over: Record<string, unknown>, message: RegExp) => {
      const { ctx } = setup(over as never);
      const before = tf.memory().numTensors;
      expect(() => ctkd.create(ctx)).toThrow(message);
      expect(() => ctkd.create(ctx)).toThrow(ConfigError);
      expect(tf.memory().numTensors).toBe(before);
    };
    bad({ gamma: -1 }, /ctkd: gamma must be >= 0, got -1/);
    bad({ beta: -2 }, /ctkd: beta must be >= 0, got -2/);
    bad({ share: 'bottom' }, /ctkd: share must be 'interval' or 'none', got 'bottom'/);
    bad({ share: 'interval', scratch: 'wrn_40_2' }, /ctkd: the scratch teacher wrn_40_2 cannot share the student wrn_16_1's convs: .*shape/);
  });
});
