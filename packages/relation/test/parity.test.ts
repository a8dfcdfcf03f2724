/**
 * Loss parity with the authors' code (benchmarks/published/loss-parity, RepDistiller at b84f547):
 * SP, CC (the default, RepDistiller's form), RKD, PKT, FSP, and CRD with the recorded embedding
 * heads, memory banks and negatives; loss and gradients within the fixtures' tolerances.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { CrdObjective } from '@kdbench/core';
import { fixtureInput, gradFindings, lossFindings, readParityFixture, termsAndGrads, type ParityFixture } from '@kdbench/core/testing';
import { Rng, tf } from '@kdbench/engine';
import { consecutiveRowCorrelationLoss, correlationCongruenceLoss } from '../src/cc.js';
import { fspLayerLosses } from '../src/fsp.js';
import { pktLoss } from '../src/pkt.js';
import { rkdLoss } from '../src/rkd.js';
import { similarityPreservingLoss } from '../src/sp.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Student inputs as variables, teacher inputs as tensors. */
const pair = (fx: ParityFixture, s: string, t: string) => ({ s: tf.variable(fixtureInput(fx, s)), t: fixtureInput(fx, t) });

describe('loss parity with the authors\' code', () => {
  it('sp: similarity-preserving loss = RepDistiller Similarity', () => {
    const fx = readParityFixture('sp');
    const { s, t } = pair(fx, 'g_s.0', 'g_t.0');
    const { values, grads } = termsAndGrads([s], () => [similarityPreservingLoss(s, t)]);
    expect(lossFindings(fx, values)).toEqual([]);
    expect(gradFindings(fx, 'g_s.0', grads.get(s)!)).toEqual([]);
  });

  it('cc: the default (repdistiller) loss = RepDistiller Correlation; the paper form is another loss', () => {
    const fx = readParityFixture('cc');
    const { s, t } = pair(fx, 'f_s', 'f_t');
    const { values, grads } = termsAndGrads([s], () => [consecutiveRowCorrelationLoss(s as tf.Tensor2D, t as tf.Tensor2D)]);
    expect(lossFindings(fx, values[0]!)).toEqual([]);
    expect(gradFindings(fx, 'f_s', grads.get(s)!)).toEqual([]);
    // the paper's Taylor-kernel correlation on the same embeddings: 0.01697 against 21.5755
    const paper = correlationCongruenceLoss(s as tf.Tensor2D, t as tf.Tensor2D, 0.4, 2).dataSync()[0]!;
    expect(paper).toBeCloseTo(0.01697, 4);
    expect(lossFindings(fx, paper)).toHaveLength(1);
  });

  it('rkd: distance + angle loss (w_d 25, w_a 50) = RepDistiller RKDLoss', () => {
    const fx = readParityFixture('rkd');
    const { s, t } = pair(fx, 'f_s', 'f_t');
    const { values, grads } = termsAndGrads([s], () => [rkdLoss(s, t, fx.params.w_d as number, fx.params.w_a as number)]);
    expect(lossFindings(fx, values[0]!)).toEqual([]);
    expect(gradFindings(fx, 'f_s', grads.get(s)!)).toEqual([]);
  });

  it('pkt: probabilistic knowledge transfer = RepDistiller PKT', () => {
    const fx = readParityFixture('pkt');
    const { s, t } = pair(fx, 'f_s', 'f_t');
    const { values, grads } = termsAndGrads([s], () => [pktLoss(s, t)]);
    expect(lossFindings(fx, values[0]!)).toEqual([]);
    expect(gradFindings(fx, 'f_s', grads.get(s)!)).toEqual([]);
  });

  it('fsp: per-pair FSP losses, including a pooled pair = RepDistiller FSP', () => {
    const fx = readParityFixture('fsp');
    const gs = [0, 1, 2].map((i) => tf.variable(fixtureInput(fx, `g_s.${i}`)) as tf.Variable<tf.Rank.R4>);
    const gt = [0, 1, 2].map((i) => fixtureInput(fx, `g_t.${i}`) as tf.Tensor4D);
    const { values, grads } = termsAndGrads(gs, () => fspLayerLosses(gs, gt));
    expect(lossFindings(fx, values)).toEqual([]);
    gs.forEach((g, i) => expect(gradFindings(fx, `g_s.${i}`, grads.get(g)!)).toEqual([]));
  });

  it('crd: CrdObjective with the recorded heads, banks and negatives = RepDistiller CRDLoss (first call), banks updated alike', () => {
    const fx = readParityFixture('crd');
    const p = fx.params as { s_dim: number; t_dim: number; feat_dim: number; nce_k: number; nce_t: number; nce_m: number; n_data: number };
    const shape = (channels: number) => [{ name: 'embedding', channels, height: 1, width: 1 }];
    const ids = Int32Array.from({ length: p.n_data }, (_, i) => i);
    const objective = new CrdObjective({
      studentShapes: shape(p.s_dim), teacherShapes: shape(p.t_dim), trainIds: ids, negativeClasses: ids,
      settings: { featDim: p.feat_dim, nceK: p.nce_k, nceT: p.nce_t, nceM: p.nce_m }, rng: new Rng(0),
    });
    const [ws, bs] = objective.embedS.trainableVariables();
    const [wt, bt] = objective.embedT.trainableVariables();
    const heads: [tf.Variable, string][] = [[ws!, 'embed_s.linear.weight'], [bs!, 'embed_s.linear.bias'], [wt!, 'embed_t.linear.weight'], [bt!, 'embed_t.linear.bias']];
    const layoutOf = (name: string): 'linear-in-out' | 'as-is' => (name.endsWith('weight') ? 'linear-in-out' : 'as-is');
    for (const [v, name] of heads) v.assign(fixtureInput(fx, name, layoutOf(name)));
    const { memory } = objective.criterion;
    memory.student.assign(fixtureInput(fx, 'contrast.memory_v1'));
    memory.teacher.assign(fixtureInput(fx, 'contrast.memory_v2'));
    const rows = Int32Array.from(fixtureInput(fx, 'idx').dataSync());
    const contrastIdx = Int32Array.from(fixtureInput(fx, 'contrast_idx').dataSync());

    const fs = tf.variable(fixtureInput(fx, 'f_s'));
    const ft = fixtureInput(fx, 'f_t') as tf.Tensor2D;
    const { values, grads } = termsAndGrads([fs, ...heads.map(([v]) => v)], () => [
      objective.criterion.lossAt(objective.embedS.apply(fs), objective.embedT.apply(ft), rows, contrastIdx),
    ]);
    expect(lossFindings(fx, values[0]!)).toEqual([]);
    expect(gradFindings(fx, 'f_s', grads.get(fs)!)).toEqual([]);
    for (const [v, name] of heads) expect(gradFindings(fx, name, grads.get(v)!, layoutOf(name))).toEqual([]);

    // Z as RepDistiller sets it on the first call, then the momentum update of the rows idx
    const z = memory.z.dataSync();
    const zRef = [fx.intermediates!.Z_v1 as number, fx.intermediates!.Z_v2 as number];
    zRef.forEach((r, i) => expect(Math.abs(z[i]! - r)).toBeLessThanOrEqual(1e-4 * r));
    objective.criterion.afterStep();
    const idx = tf.tensor1d(rows, 'int32');
    const bankRows = (bank: tf.Variable, key: string) => {
      const ref = fx.intermediates![key] as { data: number[] };
      const got = tf.gather(bank, idx).dataSync();
      return ref.data.filter((r, i) => !(Math.abs(got[i]! - r) <= 1e-5 + 1e-4 * Math.abs(r))).length;
    };
    expect(bankRows(memory.student, 'memory_v1_after_rows_idx')).toBe(0);
    expect(bankRows(memory.teacher, 'memory_v2_after_rows_idx')).toBe(0);
    for (const part of Object.values(objective.parts)) part.dispose();
  });
});
