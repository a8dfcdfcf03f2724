import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, tf } from '@kdbench/engine';
import { ClassNegatives, crd, crdkd, crdMemory, nceLoss, sampleContrastIndices } from '../src/crd.js';
import type { MethodInstance } from '@kdbench/core';
import { context, expectGradients, expectMetadata, expectNoLeak, forward, io, value, values } from './helpers.js';
import { buffersOf, afterStepOf, epochStartOf, disposeInstance } from '@kdbench/core/testing';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Loop version of CRD's NCE loss (RepDistiller ContrastLoss). */
function nceLoop(x: number[][], n: number): number {
  const eps = 1e-7;
  const m = x[0]!.length - 1;
  let s = 0;
  for (const row of x) {
    s += Math.log(row[0]! / (row[0]! + m / n + eps));
    for (const p of row.slice(1)) s += Math.log(m / n / (p + m / n + eps));
  }
  return -s / x.length;
}

describe('crd (Tian et al. 2020)', () => {
  const B = 3, Ds = 4, Dt = 6, N = 12;
  const make = () => {
    const emb = tf.variable(tf.tensor2d(values(B * Ds, 60), [B, Ds]));
    const s = forward({ logits: tf.tensor2d(values(B * 3, 61), [B, 3]), embedding: emb as tf.Tensor2D });
    const t = forward({ logits: tf.tensor2d(values(B * 3, 62), [B, 3]), embedding: tf.tensor2d(values(B * Dt, 63), [B, Dt]) });
    return { emb, s, t };
  };

  it('NCE loss equals a loop implementation', () => {
    const x = [[0.5, 0.01, 0.2], [0.05, 0.3, 0.001]];
    expect(value(nceLoss(tf.tensor2d(x), 100))).toBeCloseTo(nceLoop(x, 100), 5);
  });

  it('samples K distinct negatives per row, all from other classes; K = pool takes the whole pool', () => {
    const labels = new Int32Array([2, 0, 0, 1, 2, 2, 0, 1, 1, 2, 0, 2]);
    const negatives = new ClassNegatives(labels);
    expect(Array.from(negatives.order)).toEqual([1, 2, 6, 10, 3, 7, 8, 0, 4, 5, 9, 11]);
    expect(negatives.minPool()).toBe(12 - 5);
    const rows = new Int32Array([0, 5, 11, 3, 1]);
    const rng = new Rng(1);
    const small = sampleContrastIndices(rows, negatives, 4, rng);
    rows.forEach((pos, b) => {
      const negs = Array.from(small.slice(b * 5 + 1, (b + 1) * 5));
      expect(new Set(negs).size).toBe(4); // without replacement
      expect(negs.every((j) => labels[j] !== labels[pos])).toBe(true);
    });
    const k = negatives.minPool();
    const idx = sampleContrastIndices(rows, negatives, k, rng);
    expect(idx.length).toBe(5 * (k + 1));
    rows.forEach((pos, b) => {
      expect(idx[b * (k + 1)]).toBe(pos);
      const negs = Array.from(idx.slice(b * (k + 1) + 1, (b + 1) * (k + 1)));
      expect(negs.every((j) => j >= 0 && j < N && labels[j] !== labels[pos])).toBe(true);
      const pool = Array.from(labels.keys()).filter((j) => labels[j] !== labels[pos]);
      expect(new Set(negs).size).toBe(negs.length);
      expect(pool).toEqual(expect.arrayContaining(negs));
    });
    expect(() => sampleContrastIndices(rows, negatives, 8, rng)).toThrow(/8 negatives requested from a pool of 7/);
  });

  it('caps K at the smallest other-class pool, estimates Z once into its buffer, and gives a finite loss', () => {
    const { s, t } = make();
    const trainLabels = new Int32Array([2, 0, 0, 1, 2, 2, 0, 1, 1, 2, 0, 2]); // class 2 has 5 rows
    const inst = crd.create(context(crd, s, t, { trainSize: N, trainLabels }));
    expect(crdMemory(inst).k).toBe(N - 5);
    expect(Array.from(crdMemory(inst).memory.z.dataSync())).toEqual([-1, -1]);
    const terms = inst.losses(io(s, t, [10, 7, 4]));
    expect(Object.keys(terms)).toEqual(['ce', 'crd']);
    expect(Number.isFinite(value(terms.crd!))).toBe(true);
    const z = Array.from(crdMemory(inst).memory.z.dataSync());
    expect(Math.min(...z)).toBeGreaterThan(0);
    const sample = crdMemory(inst).lastSample!;
    for (let b = 0; b < 3; b++) {
      const pos = sample[b * (crdMemory(inst).k + 1)]!;
      for (let j = 1; j <= crdMemory(inst).k; j++) expect(trainLabels[sample[b * (crdMemory(inst).k + 1) + j]!]).not.toBe(trainLabels[pos]);
    }
    afterStepOf(inst);
    inst.losses(io(s, t, [1, 2, 3]));
    expect(Array.from(crdMemory(inst).memory.z.dataSync())).toEqual(z);
    disposeInstance(inst);
  });

  it('maps record ids to bank rows by their position in trainIds, and rejects unknown or repeated ids', () => {
    const { s, t } = make();
    const trainIds = new Int32Array([100, 7, 42, 3, 9, 4, 50, 60, 11, 12, 13, 14]);
    const inst = crd.create(context(crd, s, t, { trainIds }));
    expect(crdMemory(inst).memory.size).toBe(N);
    expect([...crdMemory(inst).memory.rows.entries()]).toEqual(Array.from(trainIds, (id, row) => [id, row]));
    expect(Array.from(crdMemory(inst).memory.rowsOf(new Int32Array([42, 9, 100, 14])))).toEqual([2, 4, 0, 11]);
    inst.losses(io(s, t, [42, 9, 100]));
    const k1 = crdMemory(inst).k + 1;
    expect([0, 1, 2].map((b) => crdMemory(inst).lastSample![b * k1])).toEqual([2, 4, 0]);
    expect(() => tf.tidy(() => inst.losses(io(s, t, [42, 5, 100])))).toThrow(/record id 5 is not in the training split/);
    disposeInstance(inst);
    const dup = new Int32Array([1, 2, 3, 2]);
    expect(() => crd.create(context(crd, s, t, { trainIds: dup }))).toThrow(/appears twice/);
    expect(() => crd.create(context(crd, s, t, { trainSize: 4, trainLabels: new Int32Array(4) }))).toThrow(/at least two classes/);
  });

  it('afterStep moves only the bank rows of the batch ids, to unit vectors', () => {
    const { s, t } = make();
    const trainIds = new Int32Array([3, 9, 4, 50, 60, 11, 12, 13, 14, 15, 16, 17]);
    const inst = crd.create(context(crd, s, t, { trainIds }));
    inst.losses(io(s, t, [3, 9, 4])); // rows 0, 1, 2
    inst.losses(io(s, t, [50, 9, 60])); // rows 3, 1, 4: the pending update is this batch's
    const before = [crdMemory(inst).memory.student.arraySync() as number[][], crdMemory(inst).memory.teacher.arraySync() as number[][]];
    afterStepOf(inst);
    const after = [crdMemory(inst).memory.student.arraySync() as number[][], crdMemory(inst).memory.teacher.arraySync() as number[][]];
    for (let bank = 0; bank < 2; bank++) {
      for (let r = 0; r < N; r++) {
        const changed = after[bank]![r]!.some((x, k) => x !== before[bank]![r]![k]);
        expect(changed, `bank ${bank} row ${r}`).toBe([3, 1, 4].includes(r));
        if (changed) expect(Math.hypot(...after[bank]![r]!)).toBeCloseTo(1, 5);
      }
    }
    disposeInstance(inst);
  });

  it('buffers() holds both banks and Z: copied into a fresh instance, they give the identical loss', () => {
    const { s, t } = make();
    const ctx = () => context(crd, s, t, { trainSize: N });
    const a = crd.create(ctx());
    expect(Object.keys(buffersOf(a))).toEqual(['memoryStudent', 'memoryTeacher', 'z']);
    expect(Object.values(buffersOf(a)).every((v) => !v.trainable)).toBe(true);
    for (const ids of [[0, 1, 2], [3, 4, 5], [6, 7, 8]]) {
      tf.tidy(() => { a.losses(io(s, t, ids)); });
      afterStepOf(a);
    }
    const saved = Object.fromEntries(Object.entries(buffersOf(a)).map(([k, v]) => [k, tf.keep(v.clone())]));
    const lossOf = (inst: MethodInstance) => {
      epochStartOf(inst, 3);
      return tf.tidy(() => value(inst.losses(io(s, t, [9, 10, 2])).crd!));
    };
    const expected = lossOf(a);
    // as a resume does: buffers assigned in place after create(), before the first losses()
    const b = crd.create(ctx());
    for (const [k, v] of Object.entries(buffersOf(b))) v.assign(saved[k]!);
    expect(lossOf(b)).toBe(expected);
    expect(Array.from(crdMemory(b).memory.z.dataSync())).toEqual(Array.from(saved.z!.dataSync()));
    // without them, a fresh bank and a Z estimated on it give another loss
    const fresh = crd.create(ctx());
    expect(lossOf(fresh)).not.toBe(expected);
    tf.dispose(Object.values(saved));
    for (const inst of [a, b, fresh]) disposeInstance(inst);
  });

  it('trains the student embedding and both heads, leaks nothing over losses + afterStep', () => {
    const { emb, s, t } = make();
    const inst = crd.create(context(crd, s, t, { trainSize: N }));
    const heads = Object.values(inst.parts!).flatMap((m) => m.trainableVariables?.() ?? []);
    expect(heads).toHaveLength(4);
    expectGradients(() => inst.losses(io(s, t)), [emb, ...heads]);
    afterStepOf(inst);
    expectNoLeak(inst, () => io(s, t));
    disposeInstance(inst);
  });

  it('crdkd adds T^2-scaled KD with weight 1; metadata holds the CRD defaults', () => {
    const { s, t } = make();
    const inst = crdkd.create(context(crdkd, s, t, { trainSize: N }));
    expect(Object.keys(inst.losses(io(s, t)))).toEqual(['ce', 'crd', 'kd']);
    disposeInstance(inst);
    const base = { gamma: 1, T: 4, beta: 0.8, featDim: 128, nceK: 16384, nceT: 0.07, nceM: 0.5 };
    expectMetadata(crd, { ...base, alpha: 0 }, '1910.10699');
    expectMetadata(crdkd, { ...base, alpha: 1 }, '1910.10699');
    expect(crdkd.id).toBe('crdkd');
  });
});
