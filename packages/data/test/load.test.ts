/** loadCifar on the real shared CIFAR files: counts, labels, pixels, names, ids, md5. */
import { beforeAll, describe, expect, it } from 'vitest';
import { classCounts, loadCifar, type CifarData } from '../src/index.js';
import { CIFAR10_DIR, DATA_DIR } from './helpers/paths.js';
import path from 'node:path';

describe('loadCifar cifar10 (real data)', () => {
  let data: CifarData;
  beforeAll(async () => {
    data = await loadCifar('cifar10', { dataDir: DATA_DIR });
  });

  it('reads data_batch_1, data_batch_2 and test_batch', () => {
    expect(data.id).toBe('cifar10');
    expect(data.numClasses).toBe(10);
    expect(data.train.n).toBe(20000);
    expect(data.train.images.length).toBe(20000 * 3072);
    expect(data.test?.n).toBe(10000);
    expect(data.files).toEqual([
      path.join(CIFAR10_DIR, 'data_batch_1.bin'),
      path.join(CIFAR10_DIR, 'data_batch_2.bin'),
      path.join(CIFAR10_DIR, 'test_batch.bin'),
      path.join(CIFAR10_DIR, 'batches.meta.txt'),
    ]);
  });

  it('class counts match the README', () => {
    const first = { ...data.train, labels: data.train.labels.subarray(0, 10000), n: 10000 };
    expect(classCounts(first, 10)).toEqual([1005, 974, 1032, 1016, 999, 937, 1030, 1001, 1025, 981]);
    const second = { ...data.train, labels: data.train.labels.subarray(10000), n: 10000 };
    expect(classCounts(second, 10)).toEqual([984, 1007, 1010, 995, 1010, 988, 1008, 1026, 987, 985]);
    expect(classCounts(data.test!, 10)).toEqual(new Array(10).fill(1000));
  });

  it('known records: data_batch_1[0] is a frog, [1] a truck; test[0] is a cat', () => {
    expect(data.classNames[data.train.labels[0]!]).toBe('frog');
    expect(data.train.labels[0]).toBe(6);
    expect(data.train.labels[1]).toBe(9);
    expect(data.test!.labels[0]).toBe(3);
    expect(data.classNames[3]).toBe('cat');
    // first pixel of test record 0, planes R, G, B
    const t = data.test!.images;
    expect([t[0], t[1024], t[2048]]).toEqual([158, 112, 49]);
    expect([t[1], t[2]]).toEqual([159, 165]);
  });

  it('class names from batches.meta.txt', () => {
    expect(data.classNames).toEqual(['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck']);
  });

  it('ids follow the official file positions', () => {
    expect(data.train.ids[0]).toBe(0);
    expect(data.train.ids[9999]).toBe(9999);
    expect(data.train.ids[10000]).toBe(10000);
    expect(data.test!.ids[5]).toBe(5);
    expect(data.train.coarseLabels).toBeUndefined();
  });

  it('verify: true checks the official per-file md5s', async () => {
    const verified = await loadCifar('cifar10', { dataDir: DATA_DIR, verify: true });
    expect(verified.train.n).toBe(20000);
  });
});

describe('loadCifar cifar100 (real data, no test file)', () => {
  let data: CifarData;
  beforeAll(async () => {
    data = await loadCifar('cifar100', { dataDir: DATA_DIR });
  });

  it('reads train.bin only', () => {
    expect(data.numClasses).toBe(100);
    expect(data.train.n).toBe(10000);
    expect(data.test).toBeNull();
  });

  it('100 records per fine class, 500 per coarse class', () => {
    expect(classCounts(data.train, 100)).toEqual(new Array(100).fill(100));
    const coarse = new Array(20).fill(0);
    for (const c of data.train.coarseLabels!) coarse[c]++;
    expect(coarse).toEqual(new Array(20).fill(500));
  });

  it('first records match the official train.bin (fine labels 19, 29, 0, 11, 1; coarse 11, 15, 4, 14, 1)', () => {
    expect(Array.from(data.train.labels.subarray(0, 5))).toEqual([19, 29, 0, 11, 1]);
    expect(Array.from(data.train.coarseLabels!.subarray(0, 5))).toEqual([11, 15, 4, 14, 1]);
    expect(data.classNames[19]).toBe('cattle');
    expect(data.classNames[0]).toBe('apple');
    expect(data.coarseClassNames).toHaveLength(20);
    expect(data.coarseClassNames![11]).toBe('large_omnivores_and_herbivores');
  });
});
