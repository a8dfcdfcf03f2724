/** Every DataError case of loadCifar, on crafted files in temp dirs (prefixes of the real files). */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataError, loadCifar, type DatasetId } from '../src/index.js';
import { CIFAR10_DIR, cleanupTempDirs, tempDir } from './helpers/paths.js';
import { cifar10Records } from './helpers/records.js';
import { buildTarGz } from './helpers/tar-writer.js';

afterAll(cleanupTempDirs);

const REC = 3073;

/** A data dir with cifar-10-batches-bin/ holding `files`. */
function cifar10Dir(files: Record<string, Uint8Array>): string {
  const dir = tempDir();
  fs.mkdirSync(path.join(dir, 'cifar-10-batches-bin'));
  for (const [name, data] of Object.entries(files)) fs.writeFileSync(path.join(dir, 'cifar-10-batches-bin', name), data);
  return dir;
}

function prefixOfBatch1(bytes: number): Buffer {
  const fd = fs.openSync(path.join(CIFAR10_DIR, 'data_batch_1.bin'), 'r');
  const buf = Buffer.alloc(bytes);
  fs.readSync(fd, buf, 0, bytes, 0);
  fs.closeSync(fd);
  return buf;
}

async function dataError(p: Promise<unknown>): Promise<DataError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DataError);
  return err as DataError;
}

describe('loadCifar errors', () => {
  it('missing folder and archive: says what was looked for and how to get it', async () => {
    const dir = tempDir();
    const err = await dataError(loadCifar('cifar10', { dataDir: dir }));
    expect(err.message).toContain(path.join(dir, 'cifar-10-batches-bin'));
    expect(err.message).toContain(path.join(dir, 'cifar-10-binary.tar.gz'));
    expect(err.message).toContain('kdbench data fetch cifar10');
    expect(err.message).toContain('--data-dir');
    const err100 = await dataError(loadCifar('cifar100', { dataDir: path.join(dir, 'nope') }));
    expect(err100.message).toContain('cifar-100-binary');
    expect(err100.message).toContain('kdbench data fetch cifar100');
  });

  it('folder without any training file', async () => {
    const dir = cifar10Dir({ 'test_batch.bin': prefixOfBatch1(2 * REC) });
    const err = await dataError(loadCifar('cifar10', { dataDir: dir }));
    expect(err.message).toMatch(/no training file/);
    expect(err.message).toContain('data_batch_1.bin');
  });

  it('truncated file: size not a multiple of the record size', async () => {
    const size = 5 * REC + 100;
    const dir = cifar10Dir({ 'data_batch_1.bin': prefixOfBatch1(size) });
    const file = path.join(dir, 'cifar-10-batches-bin', 'data_batch_1.bin');
    const err = await dataError(loadCifar('cifar10', { dataDir: dir }));
    expect(err.message).toContain(file);
    expect(err.message).toContain(`size ${size} bytes`);
    expect(err.message).toContain('3073-byte record');
    expect(err.path).toBe(file);
  });

  it('a prefix of whole records loads (subset of the official file)', async () => {
    const dir = cifar10Dir({ 'data_batch_1.bin': prefixOfBatch1(3 * REC) });
    const data = await loadCifar('cifar10', { dataDir: dir });
    expect(data.train.n).toBe(3);
    expect(Array.from(data.train.labels)).toEqual([6, 9, 9]);
    expect(data.test).toBeNull();
    expect(data.classNames[6]).toBe('frog'); // built-in names when batches.meta.txt is absent
  });

  it('label out of range: record index and value', async () => {
    const dir = cifar10Dir({ 'data_batch_3.bin': cifar10Records([1, 2, 12, 3], () => 7) });
    const err = await dataError(loadCifar('cifar10', { dataDir: dir }));
    expect(err.message).toContain(path.join(dir, 'cifar-10-batches-bin', 'data_batch_3.bin'));
    expect(err.message).toContain('record 2');
    expect(err.message).toContain('label 12');
  });

  it('cifar100 fine and coarse labels out of range', async () => {
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, 'cifar-100-binary'));
    const file = path.join(dir, 'cifar-100-binary', 'train.bin');
    const recs = Buffer.alloc(3 * 3074, 1);
    recs[1 * 3074 + 1] = 100; // fine label of record 1
    fs.writeFileSync(file, recs);
    let err = await dataError(loadCifar('cifar100', { dataDir: dir }));
    expect(err.message).toMatch(/record 1 has fine label 100, outside 0\.\.99/);
    recs[1 * 3074 + 1] = 5;
    recs[2 * 3074] = 20; // coarse label of record 2
    fs.writeFileSync(file, recs);
    err = await dataError(loadCifar('cifar100', { dataDir: dir }));
    expect(err.message).toMatch(/record 2 has coarse label 20, outside 0\.\.19/);
    expect(err.message).toContain(file);
  });

  it('unknown dataset id lists the valid ones', async () => {
    const err = await dataError(loadCifar('cifar1000' as DatasetId, { dataDir: tempDir() }));
    expect(err.message).toContain("unknown dataset id 'cifar1000'");
    expect(err.message).toContain('cifar10, cifar100');
  });

  it('md5 mismatch against the official per-file checksum (verify: true)', async () => {
    const dir = cifar10Dir({ 'data_batch_1.bin': prefixOfBatch1(3 * REC) });
    const err = await dataError(loadCifar('cifar10', { dataDir: dir, verify: true }));
    expect(err.message).toContain('md5 mismatch');
    expect(err.message).toContain('5dd7e06a14cb22eb9f671a540d1b7c25');
    expect(err.message).toContain(path.join(dir, 'cifar-10-batches-bin', 'data_batch_1.bin'));
  });

  it('md5 mismatch of an archive (explicit expected md5)', async () => {
    const dir = tempDir();
    fs.writeFileSync(
      path.join(dir, 'cifar-10-binary.tar.gz'),
      buildTarGz([{ name: 'cifar-10-batches-bin/data_batch_1.bin', data: prefixOfBatch1(REC) }]),
    );
    const err = await dataError(loadCifar('cifar10', { dataDir: dir, md5: { 'cifar-10-binary.tar.gz': '0'.repeat(32) } }));
    expect(err.message).toContain('md5 mismatch');
    expect(err.message).toContain(path.join(dir, 'cifar-10-binary.tar.gz'));
  });

  it('class names file with the wrong count', async () => {
    const dir = cifar10Dir({ 'data_batch_1.bin': prefixOfBatch1(REC), 'batches.meta.txt': Buffer.from('a\nb\n') });
    const err = await dataError(loadCifar('cifar10', { dataDir: dir }));
    expect(err.message).toMatch(/expected 10 class names, found 2/);
  });

  it('archive that is not gzip, and a truncated archive', async () => {
    const dir = tempDir();
    const archive = path.join(dir, 'cifar-10-binary.tar.gz');
    fs.writeFileSync(archive, 'not a tarball');
    let err = await dataError(loadCifar('cifar10', { dataDir: dir }));
    expect(err.message).toContain(archive);
    const good = buildTarGz([{ name: 'cifar-10-batches-bin/data_batch_1.bin', data: prefixOfBatch1(4 * REC) }]);
    fs.writeFileSync(archive, good.subarray(0, Math.floor(good.length / 2)));
    err = await dataError(loadCifar('cifar10', { dataDir: dir }));
    expect(err.message).toContain(archive);
  });
});
