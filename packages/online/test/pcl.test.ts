import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@kdbench/engine';
import type { Model } from '@kdbench/models';
import { pcl, peerMeanKD, type PeerBranches } from '../src/pcl.js';
import { batch, expectGradients, leakOf, realContext, ref, stepIO, termValues, value } from './helpers.js';
import { afterStepOf, buffersOf, disposeInstance, metricsOf } from '@kdbench/core/testing';
import { ConfigError, type MethodInstance, type StepIO } from '@kdbench/core';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Extra views of the fixed batch (other random images stand in for other augmentations). */
function views(count: number, seed = 10): NonNullable<StepIO['companions']> {
  return Array.from({ length: count }, (_, i) => ({
    x: tf.randomNormal([4, 32, 32, 3], 0, 1, 'float32', seed + i) as tf.Tensor4D,
    labels: tf.tensor1d([1, 4, 1, 7], 'int32'),
    ids: Int32Array.from([0, 1, 2, 3]),
  }));
}
const freeViews = (v: NonNullable<StepIO['companions']>) => tf.dispose(v.flatMap((c) => [c.x, c.labels]));

describe('pcl (Wu & Gong 2021)', () => {
  it('peer-mean KD averages T^2 KL over the other peers\' mean logits, by hand, holding them fixed', () => {
    const z = tf.variable(tf.tensor2d([[0, 0]]));
    const target = tf.variable(tf.tensor2d([[3 * Math.log(3), 0]]));
    // softmax(target / 3) = [0.75, 0.25], softmax(z / 3) = [0.5, 0.5]:
    // 9 * (0.75 ln 1.5 + 0.25 ln 0.5) = 9 * (0.304099 - 0.173287) = 1.177307
    expect(value(peerMeanKD(z, [z, target], 0, 3))).toBeCloseTo(1.177307, 5);
    // peer 0 of three: the mean of KD to peers 1 and 2, (1.177307 + 0) / 2
    expect(value(peerMeanKD(z, [target, target, z], 0, 3))).toBeCloseTo(1.177307 / 2, 5);
    const { grads } = tf.variableGrads(() => peerMeanKD(z, [z, target], 0, 3), [z, target]);
    expect(tf.max(tf.abs(grads[z.name]!)).dataSync()[0]).toBeGreaterThan(0);
    expect(tf.max(tf.abs(grads[target.name]!)).dataSync()[0]).toBe(0);
    tf.dispose([z, target, ...Object.values(grads)]);
  });

  it('computes each peer\'s CE, ensemble KD and peer-mean KD on its own view, and the ensemble CE, as a loop does', () => {
    const { ctx, student } = realContext(pcl, {}, { epochs: 300 });
    const inst = pcl.create(ctx);
    const module = inst.parts!.pcl as PeerBranches;
    const mean = inst.procedure!.networks!.mean!;
    expect(mean.trainInMain).toBe(false);
    expect(inst.procedure!.deployed).toBe(mean.model);
    const b = batch();
    const extra = views(2);
    const io = (epoch: number) => stepIO(student, b, { epoch, companions: extra, companion: extra[0] });
    const early = termValues(() => inst.losses(io(0)));
    const late = termValues(() => inst.losses(io(100)));
    expect(Object.keys(late).sort()).toEqual(['ce', 'ensemble', 'pe', 'peer1/ce', 'peer1/pe', 'peer1/pm', 'peer2/ce', 'peer2/pe', 'peer2/pm', 'pm']);
    // reference from the same parts; the mean branches start as a separate draw, read through the mean network's view
    const rows = tf.tidy(() => {
      const xs = [b.x, extra[0]!.x, extra[1]!.x];
      const outs = xs.map((x) => student.forward(x, { training: true }));
      const peers = outs.map((o, i) => (i === 0 ? { embedding: o.embedding, logits: o.logits } : module.branch(i, o.features.at(-2)!.post, true)));
      return [...peers.map((p) => p.logits), module.ensemble(peers.map((p) => p.embedding))];
    }).map(ref.rows);
    const [z0, z1, z2, ens] = rows;
    const y = [1, 4, 1, 7];
    const T = 3;
    const kd = (s: number[][], t: number[][]) => ref.mean(y.map((_, i) => T * T * ref.kl(ref.softmax(t[i]!, T), ref.softmax(s[i]!, T))));
    expect(late.ensemble).toBeCloseTo(ref.mean(y.map((c, i) => ref.ce(ens![i]!, c))), 4);
    expect(late['peer2/ce']).toBeCloseTo(ref.mean(y.map((c, i) => ref.ce(z2![i]!, c))), 4);
    expect(late.pe).toBeCloseTo(kd(z0!, ens!), 4);
    expect(late['peer1/pe']).toBeCloseTo(kd(z1!, ens!), 4);
    // the intended ramp (80 of 300 epochs): epoch 0 weighs every KD term by exp(-5), not 0 and not 1
    expect(early.pe).toBeCloseTo(late.pe! * Math.exp(-5), 5);
    expect(early.pm).toBeCloseTo(late.pm! * Math.exp(-5), 5);
    expect(early.ce).toBeCloseTo(late.ce!, 5);
    // after one update the mean network and branches are copies (alpha_0 = 0): the mean teachers are the peers
    afterStepOf(inst);
    const copied = termValues(() => inst.losses(io(100)));
    expect(copied.pm).toBeCloseTo((kd(z0!, z1!) + kd(z0!, z2!)) / 2, 4);
    expect(copied['peer1/pm']).toBeCloseTo((kd(z1!, z0!) + kd(z1!, z2!)) / 2, 4);
    disposeInstance(inst);
    student.dispose();
    freeViews(extra);
    tf.dispose([b.x, b.labels]);
  });

  it('sends gradients into the trunk, every branch and the ensemble classifier, never into the temporal mean; no leak', () => {
    const { ctx, student } = realContext(pcl);
    const inst = pcl.create(ctx);
    const b = batch(1);
    const extra = views(2, 20);
    const f = () => inst.losses(stepIO(student, b, { epoch: 100, companions: extra, companion: extra[0] }));
    expectGradients(f, [...student.trainableVariables(), ...inst.parts!.pcl!.trainableVariables!()], 'pcl');
    const meanVars = inst.procedure!.networks!.mean!.model.trainableVariables();
    tf.tidy(() => {
      const { grads } = tf.variableGrads(() => tf.addN(Object.values(f())) as tf.Scalar, meanVars);
      expect(Object.values(grads).every((g) => tf.max(tf.abs(g)).dataSync()[0] === 0)).toBe(true);
    });
    expect(Object.keys(buffersOf(inst))).toEqual(expect.arrayContaining(['pcl-mean/updates', 'pcl/branch1.layer.0.bn1.running_mean', 'pcl-mean/ensemble.weight']));
    expect(leakOf(inst, f)).toBe(0);
    disposeInstance(inst);
    student.dispose();
    freeViews(extra);
    tf.dispose([b.x, b.labels]);
  });

  it('runs on the survey\'s other PCL students: peers copy VGG block 4 and DenseNet\'s last transition, dense block and head', () => {
    const d = realContext(pcl, { branches: 2 }, { student: 'densenet40_12' });
    const dense = pcl.create(d.ctx);
    expect((dense.parts!.pcl as PeerBranches).namedVariables().map((nv) => nv.name)).toEqual(expect.arrayContaining(['branch1.trans2.conv.weight', 'branch1.dense3.11.conv.weight', 'branch1.bn.weight', 'branch1.fc.weight', 'ensemble.weight']));
    disposeInstance(dense);
    d.student.dispose();
    const { ctx, student } = realContext(pcl, { branches: 2 }, { student: 'vgg8' });
    const inst = pcl.create(ctx);
    expect((inst.parts!.pcl as PeerBranches).namedVariables().map((nv) => nv.name)).toEqual(expect.arrayContaining(['branch1.block4.0.weight', 'branch1.classifier.weight', 'ensemble.weight']));
    const b = batch(4);
    const extra = views(1, 40);
    expectGradients(() => inst.losses(stepIO(student, b, { epoch: 100, companions: extra, companion: extra[0] })), [...student.trainableVariables(), ...inst.parts!.pcl!.trainableVariables!()], 'pcl on vgg8');
    disposeInstance(inst);
    student.dispose();
    freeViews(extra);
    tf.dispose([b.x, b.labels]);
  });

  it('keeps the mean network at the temporal mean: a copy after the first step, then min(1 - 1/(t+1), decay)', () => {
    const { ctx, student } = realContext(pcl, { decay: 0.5 });
    const inst = pcl.create(ctx);
    const mean = inst.procedure!.networks!.mean!.model;
    const w = student.trainableVariables()[0]!;
    const m = mean.trainableVariables()[0]!;
    const first = () => m.dataSync()[0]!;
    w.assign(tf.fill(w.shape, 2));
    afterStepOf(inst); // t = 0: alpha 0, a copy
    expect(first()).toBeCloseTo(2, 6);
    w.assign(tf.fill(w.shape, 4));
    afterStepOf(inst); // t = 1: alpha = min(1/2, 0.5): 0.5 * 2 + 0.5 * 4 = 3
    expect(first()).toBeCloseTo(3, 6);
    w.assign(tf.fill(w.shape, 7));
    afterStepOf(inst); // t = 2: alpha = min(2/3, 0.5) = 0.5: 0.5 * 3 + 0.5 * 7 = 5
    expect(first()).toBeCloseTo(5, 6);
    disposeInstance(inst);
    student.dispose();
  });

  it('reports the raw peers, the other peers\' mean models and the ensemble through eval-mode views', () => {
    const { ctx, student } = realContext(pcl);
    const inst = pcl.create(ctx);
    const b = batch(2);
    const seen: string[] = [];
    const acc = metricsOf(inst, (model: Model) => {
      seen.push(model.id);
      const logits = tf.tidy(() => model.forward(b.x, { training: false }).logits);
      expect(logits.shape).toEqual([4, 10]);
      logits.dispose();
      return { top1: seen.length, top5: 0 };
    });
    expect(seen).toEqual(['resnet8', 'pcl-peer1', 'pcl-peer2', 'pcl-mean1', 'pcl-mean2', 'pcl-ensemble']);
    expect(Object.keys(acc)).toEqual(['peer0', 'peer1', 'peer2', 'mean1', 'mean2', 'ensemble']);
    disposeInstance(inst);
    student.dispose();
    tf.dispose([b.x, b.labels]);
  });

  it('asks the trainer for m - 1 views of the batch\'s own records, is reproducible under a seed, and refuses bad settings', () => {
    const run = () => {
      const { ctx, student } = realContext(pcl, {}, { seed: 4 });
      const inst: MethodInstance = pcl.create(ctx);
      const sets = inst.procedure!.companions!(Int32Array.from([3, 0, 7]), Int32Array.from([3, 0, 7]), 0) as Int32Array[];
      expect(sets.map((s) => Array.from(s))).toEqual([[3, 0, 7], [3, 0, 7]]);
      const b = batch(3);
      const extra = views(2, 30);
      expect(() => inst.losses(stepIO(student, b, { companions: extra.slice(1), companion: extra[1] }))).toThrow(/3 peers need 2 extra views of the batch, got 1/);
      const t = termValues(() => inst.losses(stepIO(student, b, { companions: extra, companion: extra[0] })));
      disposeInstance(inst);
      student.dispose();
      freeViews(extra);
      tf.dispose([b.x, b.labels]);
      return t;
    };
    expect(run()).toEqual(run());
    const bad = (over: Record<string, unknown>, message: RegExp, student?: string) => {
      const { ctx, student: s } = realContext(pcl, over as never, student ? { student } : {});
      expect(() => pcl.create(ctx)).toThrow(message);
      expect(() => pcl.create(ctx)).toThrow(ConfigError); // a usage error (exit 2), not an internal one
      s.dispose();
    };
    bad({}, /pcl: branches copy the student's last stage, which 'wrn_16_1' cannot/, 'wrn_16_1');
    bad({ branches: 1 }, /branches must be an integer >= 2, got 1/);
    bad({ T: 0 }, /T must be > 0/);
    bad({ decay: 1 }, /decay must be in \[0, 1\), got 1/);
    bad({ rampup: 2 }, /rampup must be a fraction of the epochs in \[0, 1\], got 2/);
  });
});
