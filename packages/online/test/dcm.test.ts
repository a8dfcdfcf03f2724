import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@kdbench/engine';
import { ConfigError } from '@kdbench/core';
import { modelCounts } from '@kdbench/models';
import { crossLayerKL, dcm, dcmHeadPlan, type CrossLayerHeads } from '../src/dcm.js';
import { batch, expectGradients, leakOf, realContext, ref, stepIO, termValues, value } from './helpers.js';
import { buffersOf, disposeInstance, metricsOf } from '@kdbench/core/testing';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** The plan of a full-width zoo net, from its counted feature shapes (no weights built). */
const planOf = (id: string) => dcmHeadPlan({ id, featureShapes: () => modelCounts(id, { numClasses: 100, seed: 0 }).featureShapes });

describe('dcm (Yao & Sun 2020)', () => {
  it('cross-network KL by hand: each classifier learns KL(sg p_j || p_i) summed over the other net\'s classifiers', () => {
    const a = tf.variable(tf.tensor2d([[0, 0]]));
    const b = tf.variable(tf.tensor2d([[Math.log(3), 0]]));
    // p_a = [0.5, 0.5], p_b = [0.75, 0.25]: KL(p_b || p_a) = 0.75 ln 1.5 + 0.25 ln 0.5 = 0.130812,
    // KL(p_a || p_b) = 0.5 ln(2/3) + 0.5 ln 2 = 0.143841
    const [fromB, fromA] = crossLayerKL([a], [b]);
    expect(value(fromB[0]!)).toBeCloseTo(0.130812, 5);
    expect(value(fromA[0]!)).toBeCloseTo(0.143841, 5);
    // two classifiers per net: a's first classifier sums over both of b's (0.130812 + 0), 2 x 2 x 2 = 8 KL terms in all
    const [two, back] = crossLayerKL([a, b], [b, a]);
    expect(two.length + back.length).toBe(4);
    expect(value(two[0]!)).toBeCloseTo(0.130812, 5);
    expect(value(back[0]!)).toBeCloseTo(0.143841, 5); // b's first classifier (b) learns from [a, b]: 0.143841 + 0
    expect(value(back[1]!)).toBeCloseTo(0.130812, 5); // its second (a) learns from [a, b]: 0 + 0.130812
    const { grads } = tf.variableGrads(() => crossLayerKL([a], [b])[0][0]!, [a, b]);
    expect(tf.max(tf.abs(grads[a.name]!)).dataSync()[0]).toBeGreaterThan(0);
    expect(tf.max(tf.abs(grads[b.name]!)).dataSync()[0]).toBe(0);
    tf.dispose([a, b, ...Object.values(grads), ...fromA, ...fromB, ...two, ...back]);
  });

  it('plans the authors\' heads for WRN and MobileNet and the extrapolated ones for CIFAR ResNets', () => {
    // WRN-28-10: n = 4, widths 160/320/640 (wrn_mobi/resnet.py ep1: n blocks at w2, n//2 at w3; ep2: n at 2*w3)
    expect(planOf('wrn_28_10')).toEqual({ block: 'preact', finalBnRelu: true, aux1: [{ channels: 320, blocks: 4 }, { channels: 640, blocks: 2 }], aux2: [{ channels: 1280, blocks: 4 }] });
    // mobilenet.py: ep1 = [(512,2),512,512,512] + [(1024,2),1024], ep2 = [(2048,2),2048]
    expect(planOf('mobilenetv1')).toEqual({ block: 'separable', finalBnRelu: false, aux1: [{ channels: 512, blocks: 4 }, { channels: 1024, blocks: 2 }], aux2: [{ channels: 2048, blocks: 2 }] });
    expect(planOf('resnet110')).toEqual({ block: 'basic', finalBnRelu: false, aux1: [{ channels: 32, blocks: 18 }, { channels: 64, blocks: 9 }], aux2: [{ channels: 128, blocks: 18 }] });
    expect(() => planOf('vgg16')).toThrow(/dcm: auxiliary heads are defined for .*'vgg16' is none of these/);
    expect(() => planOf('vgg16')).toThrow(ConfigError);
    expect(() => planOf('resnet50')).toThrow(/'resnet50' is none of these/); // the ImageNet-style four-stage ResNet
  });

  it('gives 6 CE and 6 summed KL terms as a loop does; gradients reach both nets and all four heads; no leak; reports both nets', () => {
    const { ctx, student } = realContext(dcm, { peer: 'wrn_16_1' });
    const inst = dcm.create(ctx);
    const peer = inst.procedure!.networks!.peer1!.model;
    expect(peer.id).toBe('wrn_16_1');
    const heads = [inst.parts!.heads0 as CrossLayerHeads, inst.parts!.heads1 as CrossLayerHeads];
    const b = batch();
    const t = termValues(() => inst.losses(stepIO(student, b)));
    expect(Object.keys(t).sort()).toEqual([
      'aux1/ce', 'aux1/kl', 'aux2/ce', 'aux2/kl', 'ce', 'kl',
      'peer1/aux1/ce', 'peer1/aux1/kl', 'peer1/aux2/ce', 'peer1/aux2/kl', 'peer1/ce', 'peer1/kl',
    ]);
    const [A, B] = [student, peer].map((net, k) => tf.tidy(() => {
      const out = net.forward(b.x, { training: true });
      return [...heads[k]!.apply(out.features, true), out.logits];
    }).map(ref.rows));
    const y = [1, 4, 1, 7];
    const kl = (mine: number[][], theirs: number[][][]) => ref.mean(y.map((_, i) => theirs.reduce((acc, z) => acc + ref.kl(ref.softmax(z[i]!), ref.softmax(mine[i]!)), 0)));
    expect(t['aux1/ce']).toBeCloseTo(ref.mean(y.map((c, i) => ref.ce(A![0]![i]!, c))), 4);
    expect(t['peer1/aux2/ce']).toBeCloseTo(ref.mean(y.map((c, i) => ref.ce(B![1]![i]!, c))), 4);
    expect(t.kl).toBeCloseTo(kl(A![2]!, B!), 4);
    expect(t['aux2/kl']).toBeCloseTo(kl(A![1]!, B!), 4);
    expect(t['peer1/aux1/kl']).toBeCloseTo(kl(B![0]!, A!), 4);
    const vars = [...student.trainableVariables(), ...peer.trainableVariables(), ...heads[0]!.trainableVariables(), ...heads[1]!.trainableVariables()];
    expectGradients(() => inst.losses(stepIO(student, b)), vars, 'dcm');
    const buffers = Object.keys(buffersOf(inst));
    expect(buffers).toContain('dcm0/aux1.stage1.0.bn1.running_mean');
    expect(buffers).toContain('dcm1/aux2.bn.running_var'); // the WRN heads end with BN-ReLU
    expect(leakOf(inst, () => inst.losses(stepIO(student, b)))).toBe(0);
    expect(metricsOf(inst, (m) => ({ top1: m === peer ? 20 : 10, top5: 0 }))).toEqual({ peer0: 10, peer1: 20 });
    disposeInstance(inst);
    student.dispose();
    tf.dispose([b.x, b.labels]);
  });

  it('weights every KL term by weight, is reproducible under a seed, and refuses bad settings', () => {
    const run = (weight: number) => {
      const { ctx, student } = realContext(dcm, { weight }, { seed: 4 });
      const inst = dcm.create(ctx);
      const b = batch(3);
      const t = termValues(() => inst.losses(stepIO(student, b)));
      disposeInstance(inst);
      student.dispose();
      tf.dispose([b.x, b.labels]);
      return t;
    };
    const one = run(1);
    expect(run(1)).toEqual(one);
    const half = run(0.5);
    expect(half.kl).toBeCloseTo(one.kl! / 2, 6);
    expect(half['peer1/aux2/kl']).toBeCloseTo(one['peer1/aux2/kl']! / 2, 6);
    expect(half.ce).toBe(one.ce);
    const bad = (over: Record<string, unknown>, message: RegExp) => {
      const { ctx, student } = realContext(dcm, over as never);
      expect(() => dcm.create(ctx)).toThrow(message);
      expect(() => dcm.create(ctx)).toThrow(ConfigError); // a usage error (exit 2), not an internal one
      student.dispose();
    };
    bad({ weight: -1 }, /dcm: weight must be >= 0, got -1/);
    bad({ peer: 'vgg8' }, /'vgg8' is none of these/);
  });
});
