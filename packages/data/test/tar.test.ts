/** The tar.gz reader: archive reading equals folder reading; GNU tar output; extraction safety. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataError, extractTarGz, loadCifar, TarParser, type TarEntry } from '../src/index.js';
import { CIFAR10_DIR, cleanupTempDirs, tempDir } from './helpers/paths.js';
import { buildTar, buildTarGz } from './helpers/tar-writer.js';

afterAll(cleanupTempDirs);

const batch1 = fs.readFileSync(path.join(CIFAR10_DIR, 'data_batch_1.bin'));
const meta = fs.readFileSync(path.join(CIFAR10_DIR, 'batches.meta.txt'));

function hasTar(): boolean {
  try {
    execFileSync('tar', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('tar.gz reading', () => {
  it('loading from cifar-10-binary.tar.gz equals loading from the folder', async () => {
    const folderDir = tempDir();
    fs.mkdirSync(path.join(folderDir, 'cifar-10-batches-bin'));
    fs.writeFileSync(path.join(folderDir, 'cifar-10-batches-bin', 'data_batch_1.bin'), batch1);
    fs.writeFileSync(path.join(folderDir, 'cifar-10-batches-bin', 'batches.meta.txt'), meta);
    const archiveDir = tempDir();
    fs.writeFileSync(
      path.join(archiveDir, 'cifar-10-binary.tar.gz'),
      buildTarGz([
        { name: 'cifar-10-batches-bin' },
        { name: 'cifar-10-batches-bin/batches.meta.txt', data: meta },
        { name: 'cifar-10-batches-bin/data_batch_1.bin', data: batch1 },
        { name: 'cifar-10-batches-bin/readme.html', data: Buffer.from('<html></html>') },
      ]),
    );
    const a = await loadCifar('cifar10', { dataDir: folderDir });
    const b = await loadCifar('cifar10', { dataDir: archiveDir });
    expect(b.train.n).toBe(10000);
    expect(Buffer.compare(Buffer.from(b.train.images), Buffer.from(a.train.images))).toBe(0);
    expect(Array.from(b.train.labels)).toEqual(Array.from(a.train.labels));
    expect(Array.from(b.train.ids)).toEqual(Array.from(a.train.ids));
    expect(b.classNames).toEqual(a.classNames);
    expect(b.files[0]).toBe(`${path.join(archiveDir, 'cifar-10-binary.tar.gz')}:cifar-10-batches-bin/data_batch_1.bin`);
  });

  it.skipIf(!hasTar())('reads an archive made by the system tar (./-prefixed names)', async () => {
    const src = tempDir();
    fs.mkdirSync(path.join(src, 'cifar-10-batches-bin'));
    fs.writeFileSync(path.join(src, 'cifar-10-batches-bin', 'data_batch_2.bin'), batch1.subarray(0, 7 * 3073));
    const dataDir = tempDir();
    execFileSync('tar', ['-czf', path.join(dataDir, 'cifar-10-binary.tar.gz'), '-C', src, './cifar-10-batches-bin']);
    const data = await loadCifar('cifar10', { dataDir });
    expect(data.train.n).toBe(7);
    expect(Array.from(data.train.ids)).toEqual([10000, 10001, 10002, 10003, 10004, 10005, 10006]);
    expect(Buffer.compare(Buffer.from(data.train.images.subarray(0, 3072)), batch1.subarray(1, 3073))).toBe(0);
  });

  it('parser handles arbitrary chunking', () => {
    const tar = buildTar([
      { name: 'd' },
      { name: 'd/a.txt', data: Buffer.from('hello') },
      { name: 'd/b.bin', data: Buffer.alloc(1500, 7) },
    ]);
    const seen: Array<[TarEntry, string]> = [];
    const p = new TarParser((e, body) => seen.push([e, body.toString('latin1')]));
    for (let i = 0; i < tar.length; i += 37) p.push(tar.subarray(i, i + 37));
    p.end();
    expect(seen.map(([e]) => [e.name, e.type, e.size])).toEqual([
      ['d', 'directory', 0],
      ['d/a.txt', 'file', 5],
      ['d/b.bin', 'file', 1500],
    ]);
    expect(seen[1]![1]).toBe('hello');
    expect(seen[2]![1]).toBe('\x07'.repeat(1500));
  });

  it('corrupt header checksum and truncated body are DataErrors', () => {
    const tar = buildTar([{ name: 'a', data: Buffer.alloc(600) }]);
    const bad = Buffer.from(tar);
    bad[0] = 'z'.charCodeAt(0);
    expect(() => new TarParser(() => {}).push(bad)).toThrow(DataError);
    const p = new TarParser(() => {});
    p.push(tar.subarray(0, 700));
    expect(() => p.end()).toThrow(/truncated/);
  });

  it('extraction refuses paths escaping the destination', async () => {
    const dir = tempDir();
    const archive = path.join(dir, 'evil.tar.gz');
    fs.writeFileSync(archive, buildTarGz([{ name: '../evil.txt', data: Buffer.from('x') }]));
    await expect(extractTarGz(archive, path.join(dir, 'out'))).rejects.toThrow(/unsafe member path/);
    expect(fs.existsSync(path.join(dir, 'evil.txt'))).toBe(false);
  });
});
