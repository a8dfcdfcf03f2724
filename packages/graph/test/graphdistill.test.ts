/** Graph distillation over modalities: the kernel and losses by hand, then the method on tiny real networks (wasm). */
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, methodContext, ModalityModel, type MethodContext, type StepIO } from '@kdbench/core';
import { disposeInstance, leakOf, metricsOf, stagesOf, varsOf } from '@kdbench/core/testing';
import { initEngine, Rng, tf } from '@kdbench/engine';
import { createModel, type ForwardResult, type Model } from '@kdbench/models';
import { DistillationKernel, graphdistill, graphDistillationLosses, imitationDistance, modalitiesOf } from '../src/graphdistill.js';
import { expectGradients, value } from './helpers.js';

beforeAll(async () => {
  await initEngine({ backend: 'wasm' });
});

const out = (logits: number[][], embedding: number[][]): ForwardResult => ({ logits: tf.tensor2d(logits), embedding: tf.tensor2d(embedding), features: [] });

describe('graphdistill pieces (target k, sources j1 and j2, 2 examples)', () => {
  it('imitationDistance: 1 - cos, squared L2 and L1 per row', () => {
    const s = tf.tensor2d([[1, 0], [3, 4]]);
    const t = tf.tensor2d([[0.8, 0.6], [3, 4]]);
    const d = [...imitationDistance(s, t, 'cosine').dataSync()];
    expect(d[0]).toBeCloseTo(0.2, 6);
    expect(d[1]).toBeCloseTo(0, 6);
    expect([...imitationDistance(s, t, 'l2').dataSync()].map((v) => +v.toFixed(6))).toEqual([0.4, 0]); // 0.2^2 + 0.6^2
    expect([...imitationDistance(s, t, 'l1').dataSync()].map((v) => +v.toFixed(6))).toEqual([0.8, 0]);
  });

  it('kernel edges: softmax over sources of alpha * W_edge [z^k ; z^j], raw scores [[4, 0], [0, 8]] at alpha 1/8', () => {
    // gd size 1: z = [first logit ; 0], W_edge reads the source's first logit, so a_{j->k}(b) = l^j_b[0]
    const k = new DistillationKernel(2, 2, 1, 1 / 8, (l) => ({ logit: 1, repr: 2, edge: 3 })[l as 'logit' | 'repr' | 'edge']);
    k.logit.weight.assign(tf.tensor2d([[1], [0]]));
    k.logit.bias!.assign(tf.zeros([1]));
    k.repr.weight.assign(tf.zeros([2, 1]));
    k.repr.bias!.assign(tf.zeros([1]));
    k.edge.weight.assign(tf.tensor2d([[0], [0], [1], [0]]));
    k.edge.bias!.assign(tf.zeros([1]));
    const e = k.edges(out([[9, 9], [9, 9]], [[1, 1], [1, 1]]), [out([[4, 0], [0, 0]], [[0, 0], [0, 0]]), out([[0, 0], [8, 0]], [[0, 0], [0, 0]])]);
    // row 1: softmax(0.5, 0) = (0.622459, 0.377541); row 2: softmax(0, 1) = (0.268941, 0.731059)
    const rows = e.arraySync();
    [[0.622459, 0.377541], [0.268941, 0.731059]].forEach((r, i) => r.forEach((v, j) => expect(rows[i]![j]).toBeCloseTo(v, 5)));
    expect(k.trainableVariables()).toHaveLength(6);
    k.dispose();
  });

  it('losses: prior regulariser and the edge-weighted cosine imitation of logits and representations, by hand', () => {
    // edges e_{j1} = (0.622459, 0.268941), e_{j2} = (0.377541, 0.731059); prior (0.5, 0.5)
    // L_reg = 10 ((0.445700 - 0.5)^2 + (0.554300 - 0.5)^2) = 0.058970
    // cosine distances to the target (1, 0): logits j1 (0.2, 0.4), j2 (0.6, 0); representations j1 (0.1, 0.1), j2 (0.3, 0.5)
    // L_logit = 10 [ (1.122459 * 0.2 + 0.768941 * 0.4) / 2 + (0.877541 * 0.6 + 1.231059 * 0) / 2 ] = 5.292964
    // L_repr  =  1 [ (1.122459 * 0.1 + 0.768941 * 0.1) / 2 + (0.877541 * 0.3 + 1.231059 * 0.5) / 2 ] = 0.533966
    const unit = (d: number) => [1 - d, Math.sqrt(1 - (1 - d) ** 2)];
    const target = out([[1, 0], [1, 0]], [[1, 0], [1, 0]]);
    const j1 = out([unit(0.2), unit(0.4)], [unit(0.1), unit(0.1)]);
    const j2 = out([unit(0.6), unit(0)], [unit(0.3), unit(0.5)]);
    const edges = tf.tensor2d([[0.622459, 0.377541], [0.268941, 0.731059]]);
    const l = graphDistillationLosses(edges, target, [j1, j2], { wLogit: 10, wRepr: 1, gdReg: 10, metric: 'cosine' });
    expect(value(l.reg)).toBeCloseTo(0.058970, 5);
    expect(value(l.logit)).toBeCloseTo(5.292964, 4);
    expect(value(l.repr)).toBeCloseTo(0.533966, 5);
  });

  it('modalities: every other modality by default; bad lists refused with the entry', () => {
    expect(modalitiesOf('gray', '')).toEqual({ target: 'gray', sources: ['rgb', 'low8', 'low16', 'edge'] });
    expect(modalitiesOf('low8', 'rgb edge')).toEqual({ target: 'low8', sources: ['rgb', 'edge'] });
    expect(() => modalitiesOf('rgb', '')).toThrow(/target must be one of gray, low8, low16, edge, got 'rgb'/);
    expect(() => modalitiesOf('gray', 'rgb depth')).toThrow(/sources entry 'depth' is not a modality/);
    expect(() => modalitiesOf('gray', 'rgb gray')).toThrow(/sources lists the target modality 'gray'/);
    expect(() => modalitiesOf('gray', 'rgb rgb')).toThrow(ConfigError);
  });
});

describe('graphdistill on tiny real networks', () => {
  let student: Model;
  let teacher: Model;
  const ctxWith = (over: Partial<typeof graphdistill.defaults> = {}, t?: Model): MethodContext<typeof graphdistill.defaults, 'required'> => {
    const ids = Int32Array.from({ length: 20 }, (_, i) => i);
    return methodContext({
      hp: { ...graphdistill.defaults, ...over }, numClasses: 10, student, teacher: t ?? teacher, epochs: 3, batchSize: 4, rng: new Rng(2),
      train: { images: new Uint8Array(0), ids, labels: ids.map((i) => i % 10), n: 20 },
    }) as MethodContext<typeof graphdistill.defaults, 'required'>;
  };
  beforeAll(() => {
    student = createModel('resnet8', { numClasses: 10, seed: 0, widthFactor: 0.25 });
    teacher = createModel('resnet14', { numClasses: 10, seed: 1, widthFactor: 0.25 });
  });
  const io = (inst: ReturnType<typeof graphdistill.create>, x: tf.Tensor4D): StepIO<'required'> => ({
    x, labels: tf.tensor1d([0, 1, 2, 3], 'int32'), ids: new Int32Array(4), student: inst.procedure!.student!.forward(x, { training: true }),
    teacher: teacher.forward(x, { training: false }), epoch: 0, progress: 0.5, step: 0, stage: 'main',
  });

  it('the student sees the target modality; one stage per non-RGB source trains its network alone on its modality', () => {
    const inst = graphdistill.create(ctxWith({ sources: 'rgb edge low8' }));
    expect(inst.procedure!.student).toBeInstanceOf(ModalityModel);
    expect((inst.procedure!.student as ModalityModel).modality).toBe('gray');
    const stages = stagesOf(inst);
    expect(stages.map((s) => [s.name, s.epochs])).toEqual([['source-edge', 3], ['source-low8', 3]]);
    expect(Object.keys(inst.procedure!.networks!)).toEqual(['source-edge', 'source-low8']);
    const x = tf.randomNormal([4, 32, 32, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    const edgeNet = inst.procedure!.networks!['source-edge']!.model;
    expectGradients(() => stages[0]!.losses(io(inst, x)), edgeNet.trainableVariables());
    disposeInstance(inst);
    x.dispose();
  });

  it('main stage: gradients reach the student and the kernel, not the sources; no leak; seeded', () => {
    const inst = graphdistill.create(ctxWith({ sources: 'rgb edge' }));
    const x = tf.randomNormal([4, 32, 32, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
    const terms = inst.losses(io(inst, x));
    expect(Object.keys(terms)).toEqual(['ce', 'gdReg', 'gdLogit', 'gdRepr']);
    expectGradients(() => inst.losses(io(inst, x)), [...student.trainableVariables(), ...varsOf(inst, 'kernel')]);
    const sourceVars = inst.procedure!.networks!['source-edge']!.model.trainableVariables();
    tf.tidy(() => {
      const { grads } = tf.variableGrads(() => tf.addN(Object.values(inst.losses(io(inst, x)))) as tf.Scalar, [...sourceVars, ...teacher.trainableVariables()]);
      for (const g of Object.values(grads)) expect(tf.max(tf.abs(g)).dataSync()[0]).toBe(0);
    });
    expect(leakOf(() => inst.losses(io(inst, x)))).toBe(0);
    // metrics: each source's accuracy and its mean edge weight over the evaluation batches (the weights of a row sum to 1)
    const m = metricsOf(inst, (_model, opts) => {
      if (opts?.classify) tf.tidy(() => { opts.classify!(x); });
      return { top1: 42, top5: 0 };
    });
    expect(m.source_rgb).toBe(42);
    expect(m.source_edge).toBe(42);
    expect(m.edge_rgb! + m.edge_edge!).toBeCloseTo(1, 5);
    expect(m.edge_rgb).toBeGreaterThan(0);
    const again = graphdistill.create(ctxWith({ sources: 'rgb edge' }));
    expect(Object.values(again.losses(io(again, x))).map(value)).toEqual(Object.values(graphdistill.create(ctxWith({ sources: 'rgb edge' })).losses(io(inst, x))).map(value));
    [inst, again].forEach((i) => disposeInstance(i));
    x.dispose();
  });

  it('refuses bad hyperparameters and sources of another representation width', () => {
    expect(() => graphdistill.create(ctxWith({ metric: 'kl' }))).toThrow(/metric must be one of cosine, l2, l1, got 'kl'/);
    expect(() => graphdistill.create(ctxWith({ sourceEpochs: -1 }))).toThrow(/sourceEpochs must be an integer >= 0/);
    expect(() => graphdistill.create(ctxWith({ gdSize: 0 }))).toThrow(/gdSize must be a positive integer/);
    const wide = createModel('resnet8x4', { numClasses: 10, seed: 1, widthFactor: 0.25 });
    expect(() => graphdistill.create(ctxWith({}, wide))).toThrow(/representation \(16\) and the sources' \(teacher architecture, 64\)/);
    wide.dispose();
  });

  it('cites its paper, has the code\'s defaults, and states its departures', () => {
    expect(graphdistill.paper?.url).toContain('1712.00108');
    expect(graphdistill.defaults).toMatchObject({ wLogit: 10, wRepr: 1, gdSize: 32, gdReg: 10, alpha: 0.125, metric: 'cosine' });
    expect([graphdistill.family, graphdistill.scheme]).toEqual(['graph', 'offline']);
    expect(Object.keys(graphdistill.hyperDocs).sort()).toEqual(Object.keys(graphdistill.defaults).sort());
    expect(graphdistill.deviations).toMatch(/evaluation mode/);
  });
});
