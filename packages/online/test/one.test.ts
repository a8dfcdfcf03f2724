import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@kdbench/engine';
import type { Model } from '@kdbench/models';
import { gatedEnsemble, one, sigmoidRampup, type OneBranches } from '../src/one.js';
import { batch, expectGradients, leakOf, realContext, ref, stepIO, termValues } from './helpers.js';
import { metricsOf, buffersOf, disposeInstance } from '@kdbench/core/testing';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('one (Lan, Zhu & Gong 2018)', () => {
  it('ramps the KL weight up as exp(-5 (1 - e/R)^2) and gates branch logits by hand-computed weights', () => {
    expect(sigmoidRampup(0, 80)).toBeCloseTo(Math.exp(-5), 10); // 0.006738
    expect(sigmoidRampup(40, 80)).toBeCloseTo(0.286505, 6); // exp(-5 * 0.5^2)
    expect(sigmoidRampup(80, 80)).toBe(1);
    expect(sigmoidRampup(200, 80)).toBe(1);
    expect(sigmoidRampup(3, 0)).toBe(1);
    const z = [tf.tensor2d([[1, 2, 0]]), tf.tensor2d([[2, 0, 1]])];
    const g = tf.tensor2d([[0.25, 0.75]]);
    // 0.25 * [1, 2, 0] + 0.75 * [2, 0, 1] = [1.75, 0.5, 0.75]
    const e = gatedEnsemble(z as tf.Tensor2D[], g);
    expect(Array.from(e.dataSync())).toEqual([1.75, 0.5, 0.75]);
    tf.dispose([...z, g, e]);
  });

  it('builds its branches as copies of the student\'s last stage (ResNet blocks, VGG block 4) and trains them', () => {
    for (const student of ['resnet8', 'vgg8']) {
      const { ctx, student: net } = realContext(one, {}, { student });
      const inst = one.create(ctx);
      expect(Object.keys(buffersOf(inst))).toEqual(expect.arrayContaining(student === 'vgg8'
        ? ['one/branch1.block4.1.running_mean', 'one/branch2.block4.1.running_var', 'one/gate.bn.running_mean']
        : ['one/branch1.layer.0.bn1.running_mean', 'one/branch2.layer.0.bn2.running_var', 'one/gate.bn.running_mean']));
      if (student === 'vgg8') { // (gradient flow on resnet8 is the next tests' subject)
        const b = batch(6);
        expectGradients(() => inst.losses(stepIO(net, b, { epoch: 100 })), [...net.trainableVariables(), ...inst.parts!.one!.trainableVariables!()], 'one on vgg8');
        tf.dispose([b.x, b.labels]);
      }
      disposeInstance(inst);
      net.dispose();
    }
  });

  it('computes branch CEs, the ensemble CE and the ramped KL to the gated ensemble, as a loop does', () => {
    const { ctx, student } = realContext(one, {}, { epochs: 300 });
    const inst = one.create(ctx);
    const module = inst.parts!.one as OneBranches;
    const b = batch();
    const early = termValues(() => inst.losses(stepIO(student, b, { epoch: 0 })));
    const late = termValues(() => inst.losses(stepIO(student, b, { epoch: 100 })));
    expect(Object.keys(late).sort()).toEqual(['branch1/ce', 'branch2/ce', 'ce', 'ensemble', 'kl']);
    // reference from the same parts: student logits, module branches and gate on stage2's output
    const [s, b1, b2, gate] = tf.tidy(() => {
      const out = student.forward(b.x, { training: true });
      const { logits, gate } = module.apply(out.features[2]!.post, true);
      return [out.logits, logits[0]!, logits[1]!, gate];
    }).map(ref.rows);
    const y = [1, 4, 1, 7];
    const all = [s!, b1!, b2!];
    const ens = y.map((_, i) => s![i]!.map((_, c) => all.reduce((acc, z, k) => acc + gate![i]![k]! * z[i]![c]!, 0)));
    const T = 3;
    const kl = ref.mean(y.map((_, i) => all.reduce((acc, z) => acc + T * T * ref.kl(ref.softmax(ens[i]!, T), ref.softmax(z[i]!, T)), 0)));
    expect(late.ce).toBeCloseTo(ref.mean(y.map((c, i) => ref.ce(s![i]!, c))), 4);
    expect(late['branch2/ce']).toBeCloseTo(ref.mean(y.map((c, i) => ref.ce(b2![i]!, c))), 4);
    expect(late.ensemble).toBeCloseTo(ref.mean(y.map((c, i) => ref.ce(ens[i]!, c))), 4);
    expect(late.kl).toBeCloseTo(kl, 4);
    // 80/300 of 300 epochs = 80 ramp-up epochs: epoch 0 weighs the KL by exp(-5)
    expect(early.kl).toBeCloseTo(kl * Math.exp(-5), 5);
    expect(gate!.every((row) => Math.abs(row.reduce((a, v) => a + v, 0) - 1) < 1e-5)).toBe(true);
    disposeInstance(inst);
    student.dispose();
    tf.dispose([b.x, b.labels]);
  });

  it('sends gradients into the shared trunk, every branch and the gate; checkpoints branch BN statistics; no leak', () => {
    const { ctx, student } = realContext(one);
    const inst = one.create(ctx);
    const module = inst.parts!.one!;
    const b = batch(1);
    const f = () => inst.losses(stepIO(student, b, { epoch: 5 }));
    // the gate's linear bias sits right before a batch norm, which cancels it: no gradient can reach it
    // (module variables end with gate.fc.weight, gate.fc.bias, gate.bn.weight, gate.bn.bias)
    const vars = module.trainableVariables!();
    const gateFcBias = vars[vars.length - 3]!;
    expect(gateFcBias.shape).toEqual([3]);
    expectGradients(f, [...student.trainableVariables(), ...vars.filter((v) => v !== gateFcBias)], 'one');
    expect(Object.keys(buffersOf(inst)).some((k) => k.includes('gate.bn.running_mean'))).toBe(true);
    expect(Object.keys(buffersOf(inst)).some((k) => k.includes('branch1.layer.0.bn1.running_var'))).toBe(true);
    expect(leakOf(inst, f)).toBe(0);
    disposeInstance(inst);
    student.dispose();
    tf.dispose([b.x, b.labels]);
  });

  it('reports the gated ensemble and each extra branch through eval-mode views', () => {
    const { ctx, student } = realContext(one);
    const inst = one.create(ctx);
    const b = batch(2);
    const seen: string[] = [];
    const acc = metricsOf(inst, (m: Model) => {
      seen.push(m.id);
      const logits = tf.tidy(() => m.forward(b.x, { training: false }).logits);
      expect(logits.shape).toEqual([4, 10]);
      const top1 = tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), b.labels), 'float32')).dataSync()[0]! * 100);
      logits.dispose();
      return { top1, top5: 0 };
    });
    expect(seen).toEqual(['one-ensemble', 'one-branch1', 'one-branch2']);
    expect(Object.keys(acc)).toEqual(['ensemble', 'branch1', 'branch2']);
    disposeInstance(inst);
    student.dispose();
    tf.dispose([b.x, b.labels]);
  });

  it('refuses a student without a branch point and a single branch', () => {
    const v = realContext(one, {}, { student: 'wrn_16_1' });
    expect(() => one.create(v.ctx)).toThrow(/one: branches copy the student's last stage, which 'wrn_16_1' cannot \(CIFAR ResNets, VGGs and DenseNet can\)/);
    v.student.dispose();
    const r = realContext(one, { branches: 1 });
    expect(() => one.create(r.ctx)).toThrow(/branches must be an integer >= 2/);
    r.student.dispose();
    expect(one.defaults).toEqual({ branches: 3, T: 3, rampup: 80 / 300 });
    expect(one.paper?.url).toContain('1806.04606');
  });
});
