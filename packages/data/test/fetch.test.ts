/** fetchDataset against a local HTTP server serving a small CIFAR-10-layout tar.gz; formatProgress. */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archiveUrl, DataError, fetchDataset, formatProgress, loadCifar } from '../src/index.js';
import { CIFAR10_DIR, cleanupTempDirs, tempDir } from './helpers/paths.js';
import { buildTarGz } from './helpers/tar-writer.js';

const records = fs.readFileSync(path.join(CIFAR10_DIR, 'test_batch.bin')).subarray(0, 20 * 3073);
const meta = fs.readFileSync(path.join(CIFAR10_DIR, 'batches.meta.txt'));
const archive = buildTarGz([
  { name: 'cifar-10-batches-bin' },
  { name: 'cifar-10-batches-bin/data_batch_1.bin', data: records.subarray(0, 12 * 3073) },
  { name: 'cifar-10-batches-bin/test_batch.bin', data: records.subarray(12 * 3073) },
  { name: 'cifar-10-batches-bin/batches.meta.txt', data: meta },
]);
const md5 = crypto.createHash('md5').update(archive).digest('hex');

const requests: string[] = [];
let server: http.Server;
let base: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    if (req.url === '/mirror/cifar-10-binary.tar.gz' || req.url === '/files/c10.tgz') {
      res.writeHead(200, { 'content-type': 'application/gzip', 'content-length': archive.length });
      // two writes so progress is reported more than once
      res.write(archive.subarray(0, 1000));
      setTimeout(() => res.end(archive.subarray(1000)), 5);
    } else if (req.url === '/moved') {
      res.writeHead(302, { location: '/files/c10.tgz' });
      res.end();
    } else {
      res.writeHead(404);
      res.end('not found');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  cleanupTempDirs();
});

const leftovers = (dir: string): string[] => fs.readdirSync(dir).filter((f) => f.includes('.part') || f.includes('.partial'));

describe('fetchDataset', () => {
  it('downloads, verifies, renames into place and extracts; progress is reported', async () => {
    const dataDir = path.join(tempDir(), 'nested', 'datasets');
    const progress: Array<[number, number | undefined]> = [];
    const folder = await fetchDataset('cifar10', {
      dataDir,
      url: `${base}/files/c10.tgz`,
      md5,
      onProgress: (r, t) => progress.push([r, t]),
    });
    expect(folder).toBe(path.join(dataDir, 'cifar-10-batches-bin'));
    expect(fs.readFileSync(path.join(dataDir, 'cifar-10-binary.tar.gz')).equals(archive)).toBe(true);
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress.at(-1)).toEqual([archive.length, archive.length]);
    expect(leftovers(dataDir)).toEqual([]);
    expect(leftovers(folder)).toEqual([]);

    const data = await loadCifar('cifar10', { dataDir });
    expect(data.train.n).toBe(12);
    expect(data.test!.n).toBe(8);
    expect(Buffer.from(data.train.images.subarray(0, 3072)).equals(records.subarray(1, 3073))).toBe(true);

    // a verified archive is reused: no second request
    const before = requests.length;
    await fetchDataset('cifar10', { dataDir, url: `${base}/files/c10.tgz`, md5 });
    expect(requests.length).toBe(before);
  });

  it('base URL from KDBENCH_CIFAR_MIRROR', async () => {
    const env = { KDBENCH_CIFAR_MIRROR: `${base}/mirror` };
    expect(archiveUrl('cifar10', env)).toBe(`${base}/mirror/cifar-10-binary.tar.gz`);
    expect(archiveUrl('cifar100', {})).toBe('https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz');
    const dataDir = tempDir();
    await fetchDataset('cifar10', { dataDir, md5, env });
    expect(requests.at(-1)).toBe('/mirror/cifar-10-binary.tar.gz');
    expect(fs.existsSync(path.join(dataDir, 'cifar-10-batches-bin', 'test_batch.bin'))).toBe(true);
  });

  it('md5 mismatch: DataError, nothing kept', async () => {
    const dataDir = tempDir();
    const wrong = 'f'.repeat(32);
    const err = await fetchDataset('cifar10', { dataDir, url: `${base}/files/c10.tgz`, md5: wrong }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as Error).message).toContain('md5 mismatch');
    expect((err as Error).message).toContain(wrong);
    expect((err as Error).message).toContain(md5);
    expect(fs.readdirSync(dataDir)).toEqual([]);
  });

  it('the official md5 is the default (a foreign archive is rejected)', async () => {
    const err = await fetchDataset('cifar10', { dataDir: tempDir(), url: `${base}/files/c10.tgz` }).catch((e: unknown) => e);
    expect((err as Error).message).toContain('c32a1d4ab5d03f1284b67883e8d87530');
  });

  it('a corrupt archive already present is downloaded again', async () => {
    const dataDir = tempDir();
    fs.writeFileSync(path.join(dataDir, 'cifar-10-binary.tar.gz'), 'junk');
    const before = requests.length;
    await fetchDataset('cifar10', { dataDir, url: `${base}/moved`, md5 });
    expect(requests.slice(before)).toEqual(['/moved', '/files/c10.tgz']); // redirect followed
    expect(fs.readFileSync(path.join(dataDir, 'cifar-10-binary.tar.gz')).equals(archive)).toBe(true);
  });

  it('HTTP errors are DataErrors naming the URL', async () => {
    const dataDir = tempDir();
    const url = `${base}/missing.tgz`;
    await expect(fetchDataset('cifar10', { dataDir, url, md5 })).rejects.toThrow(`download of ${url} failed: HTTP 404`);
    expect(fs.readdirSync(dataDir)).toEqual([]);
  });
});

describe('formatProgress', () => {
  it('draws a bar with percent and MB', () => {
    expect(formatProgress(0, 100 * 1024 * 1024, 10)).toBe('[----------]   0.0%  0.0/100.0 MB');
    expect(formatProgress(40 * 1024 * 1024, 100 * 1024 * 1024, 10)).toBe('[####------]  40.0%  40.0/100.0 MB');
    expect(formatProgress(170_498_071, 170_498_071)).toMatch(/^\[#{30}\] 100\.0%  162\.6\/162\.6 MB$/);
  });
  it('falls back to a byte count when the total is unknown', () => {
    expect(formatProgress(3 * 1024 * 1024, undefined)).toBe('3.0 MB');
    expect(formatProgress(1024 * 1024, 0)).toBe('1.0 MB');
  });
});
