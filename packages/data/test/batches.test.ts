/** Batch pipeline: normalisation, crop/flip geometry, determinism in (seed, epoch), tensor hygiene. */
import { tf } from '@kdbench/engine';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  batchCount,
  batches,
  CIFAR100_NORMALIZATION,
  CIFAR10_NORMALIZATION,
  evalBatches,
  loadCifar,
  makeRunSplits,
  normalizationTable,
  writeRecord,
  type Batch,
  type RawSplit,
  type RecordTransform,
} from '../src/index.js';
import { DATA_DIR } from './helpers/paths.js';
import { makeSplit } from './helpers/records.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const M = CIFAR10_NORMALIZATION.mean;
const S = CIFAR10_NORMALIZATION.std;
const norm = (v: number, c: number): number => (v / 255 - M[c]!) / S[c]!;
/** Never 0, distinct enough to pin positions. */
const pix = (r: number, c: number, y: number, x: number): number => 1 + ((r * 97 + c * 31 + y * 7 + x * 3) % 250);
const tiny = makeSplit([3, 5], pix);

function render(split: RawSplit, record: number, t: RecordTransform): Float32Array {
  const out = new Float32Array(3072);
  writeRecord(split.images, record, out, 0, normalizationTable(CIFAR10_NORMALIZATION), t);
  return out;
}
const at = (img: Float32Array, y: number, x: number, c: number): number => img[(y * 32 + x) * 3 + c]!;

function collect(split: RawSplit, opts: Parameters<typeof batches>[2]): { ids: number[]; x: Float32Array[]; y: number[] } {
  const ids: number[] = [];
  const x: Float32Array[] = [];
  const y: number[] = [];
  for (const b of batches(split, 'cifar10', opts)) {
    ids.push(...b.ids);
    x.push(b.x.dataSync() as Float32Array);
    y.push(...(b.y.dataSync() as Int32Array));
    b.x.dispose();
    b.y.dispose();
  }
  return { ids, x, y };
}

describe('normalisation', () => {
  it('exports the standard constants', () => {
    expect(CIFAR10_NORMALIZATION).toEqual({ mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] });
    expect(CIFAR100_NORMALIZATION).toEqual({ mean: [0.5071, 0.4867, 0.4408], std: [0.2675, 0.2565, 0.2761] });
  });

  it('lookup table = (v/255 - mean) / std', () => {
    const lut = normalizationTable(CIFAR100_NORMALIZATION);
    expect(lut[0]).toBeCloseTo(-0.5071 / 0.2675, 5);
    expect(lut[256 + 255]).toBeCloseTo((1 - 0.4867) / 0.2565, 5);
    expect(lut[512 + 128]).toBeCloseTo((128 / 255 - 0.4408) / 0.2761, 5);
  });

  it('eval batch of the real test set: NHWC layout, normalised first pixel', async () => {
    const data = await loadCifar('cifar10', { dataDir: DATA_DIR });
    const gen = evalBatches(data.test!, 'cifar10', 4);
    const b = gen.next().value as Batch;
    expect(b.x.shape).toEqual([4, 32, 32, 3]);
    expect(b.x.dtype).toBe('float32');
    expect(b.y.dtype).toBe('int32');
    expect(Array.from(b.y.dataSync())).toEqual([3, 8, 8, 0]);
    const x = b.x.dataSync();
    expect(x[0]).toBeCloseTo(norm(158, 0), 5);
    expect(x[1]).toBeCloseTo(norm(112, 1), 5);
    expect(x[2]).toBeCloseTo(norm(49, 2), 5);
    expect(x[3]).toBeCloseTo(norm(159, 0), 5); // next pixel in the row
    b.x.dispose();
    b.y.dispose();
    gen.return(undefined);
  });
});

describe('crop and flip geometry (hand-made records)', () => {
  it('identity crop reproduces the image', () => {
    const img = render(tiny, 1, { cropY: 4, cropX: 4, flip: false });
    for (const [y, x, c] of [[0, 0, 0], [5, 17, 1], [31, 31, 2]] as const) expect(at(img, y, x, c)).toBeCloseTo(norm(pix(1, c, y, x), c), 6);
  });

  it('a flipped image is the mirror', () => {
    const plain = render(tiny, 0, { cropY: 4, cropX: 4, flip: false });
    const flipped = render(tiny, 0, { cropY: 4, cropX: 4, flip: true });
    for (let y = 0; y < 32; y++)
      for (let x = 0; x < 32; x++) for (let c = 0; c < 3; c++) expect(at(flipped, y, x, c)).toBe(at(plain, y, 31 - x, c));
  });

  it('crop offsets shift the image and zero-fill (in pixel space) what falls outside', () => {
    // padded image is 40x40; window top-left (0, 8) shows source rows -4..27 and columns 4..35
    const img = render(tiny, 1, { cropY: 0, cropX: 8, flip: false });
    for (let y = 0; y < 32; y++)
      for (let x = 0; x < 32; x++)
        for (let c = 0; c < 3; c++) {
          const sy = y - 4;
          const sx = x + 4;
          const want = sy >= 0 && sx < 32 ? norm(pix(1, c, sy, sx), c) : norm(0, c);
          expect(at(img, y, x, c)).toBeCloseTo(want, 6);
        }
    expect(at(img, 0, 0, 0)).toBeCloseTo(-M[0]! / S[0]!, 6);
    expect(at(img, 10, 31, 2)).toBeCloseTo(-M[2]! / S[2]!, 6);
  });

  it('crop then flip: flip applies to the cropped window', () => {
    const t = { cropY: 8, cropX: 1, flip: true };
    const img = render(tiny, 0, t);
    const crop = render(tiny, 0, { ...t, flip: false });
    for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) expect(at(img, y, x, 1)).toBe(at(crop, y, 31 - x, 1));
    expect(at(img, 31, 0, 0)).toBeCloseTo(norm(0, 0), 6); // bottom rows are padding
    expect(at(img, 0, 0, 0)).toBeCloseTo(norm(pix(0, 0, 4, 28), 0), 6); // x=0 <- window col 31 <- source col 28
  });

  it('augmented batches only contain valid crop/flip variants, and vary over epochs', () => {
    const candidates = [0, 1].map((r) => {
      const list: Float32Array[] = [];
      for (let cy = 0; cy <= 8; cy++) for (let cx = 0; cx <= 8; cx++) for (const flip of [false, true]) list.push(render(tiny, r, { cropY: cy, cropX: cx, flip }));
      return list;
    });
    const seen = new Set<string>();
    for (let epoch = 0; epoch < 12; epoch++) {
      const { ids, x } = collect(tiny, { batchSize: 2, seed: 5, epoch, shuffle: true, augment: true });
      ids.forEach((id, k) => {
        const img = x[0]!.subarray(k * 3072, (k + 1) * 3072);
        const idx = candidates[id - 100]!.findIndex((c) => c.every((v, i) => v === img[i]));
        expect(idx).toBeGreaterThanOrEqual(0);
        seen.add(`${id}:${idx}`);
      });
    }
    expect(seen.size).toBeGreaterThan(12);
  });
});

describe('batches', () => {
  let split: RawSplit;
  beforeAll(async () => {
    const data = await loadCifar('cifar10', { dataDir: DATA_DIR });
    split = makeRunSplits(data, { seed: 0, trainPerClass: 10 }).train; // 100 records
  });

  it('batchCount', () => {
    expect(batchCount(100, { batchSize: 32 })).toBe(4);
    expect(batchCount(100, { batchSize: 32, dropLast: true })).toBe(3);
    expect(batchCount(96, { batchSize: 32, dropLast: true })).toBe(3);
    expect(() => batchCount(10, { batchSize: 0 })).toThrow(/positive integer/);
  });

  it('same (seed, epoch) gives identical batches; another epoch or seed differs', () => {
    const opts = { batchSize: 32, seed: 11, epoch: 0, shuffle: true, augment: true };
    const a = collect(split, opts);
    const b = collect(split, opts);
    const c = collect(split, { ...opts, epoch: 1 });
    const d = collect(split, { ...opts, seed: 12 });
    expect(a.ids).toEqual(b.ids);
    expect(a.x.every((xa, i) => xa.every((v, j) => v === b.x[i]![j]))).toBe(true);
    expect(c.ids).not.toEqual(a.ids);
    expect(d.ids).not.toEqual(a.ids);
    // each epoch is a permutation of the split, labels follow ids
    expect([...a.ids].sort((p, q) => p - q)).toEqual(Array.from(split.ids));
    const labelOf = new Map(Array.from(split.ids, (id, i) => [id, split.labels[i]!]));
    expect(a.y).toEqual(a.ids.map((id) => labelOf.get(id)));
    // same order with augment off: augmentation draws do not disturb the order
    expect(collect(split, { ...opts, augment: false }).ids).toEqual(a.ids);
  });

  it('no shuffle keeps record order; dropLast drops the short batch; steps count up', () => {
    const steps: number[] = [];
    const sizes: number[] = [];
    for (const b of batches(split, 'cifar10', { batchSize: 30, seed: 0, epoch: 0, shuffle: false, augment: false, dropLast: true })) {
      steps.push(b.step);
      sizes.push(b.x.shape[0]);
      tf.dispose([b.x, b.y]);
    }
    expect(steps).toEqual([0, 1, 2]);
    expect(sizes).toEqual([30, 30, 30]);
    const all = collect(split, { batchSize: 30, seed: 0, epoch: 0, shuffle: false, augment: false });
    expect(all.ids).toEqual(Array.from(split.ids));
    expect(all.x.map((x) => x.length / 3072)).toEqual([30, 30, 30, 10]);
  });

  it('creates no tensors besides the returned x and y', () => {
    const before = tf.memory().numTensors;
    for (const b of batches(split, 'cifar10', { batchSize: 16, seed: 1, epoch: 2, shuffle: true, augment: true })) {
      expect(tf.memory().numTensors).toBe(before + 2);
      b.x.dispose();
      b.y.dispose();
    }
    for (const b of evalBatches(split, 'cifar100', 64)) tf.dispose([b.x, b.y]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
