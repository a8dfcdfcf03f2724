/** The PNG writer: CRC-32, chunk layout, pixels that inflate back; the synthesis grid file. */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { CIFAR10_NORMALIZATION } from '@kdbench/data';
import { tf } from '@kdbench/engine';
import { crc32, encodePng, imageGrid, saveSynthesisGrid, synthesisOf } from '../src/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('PNG encoder', () => {
  it('CRC-32 of known inputs', () => {
    expect(crc32(Buffer.from('IEND', 'ascii'))).toBe(0xae426082);
    expect(crc32(Buffer.from('123456789', 'ascii'))).toBe(0xcbf43926); // the CRC-32 check value
  });

  it('signature, IHDR, IDAT with filtered rows, IEND', () => {
    const rgb = Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30]); // 2x2
    const png = encodePng(rgb, 2, 2);
    expect(Array.from(png.subarray(0, 8))).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(png.toString('ascii', 12, 16)).toBe('IHDR');
    expect(png.readUInt32BE(16)).toBe(2); // width
    expect(png.readUInt32BE(20)).toBe(2); // height
    expect([png[24], png[25]]).toEqual([8, 2]); // 8-bit truecolour
    expect(png.readUInt32BE(29)).toBe(crc32(png.subarray(12, 29)));
    const idatLength = png.readUInt32BE(33);
    expect(png.toString('ascii', 37, 41)).toBe('IDAT');
    const raw = inflateSync(png.subarray(41, 41 + idatLength));
    expect(Array.from(raw)).toEqual([0, 255, 0, 0, 0, 255, 0, 0, 0, 0, 255, 10, 20, 30]);
    expect(png.toString('ascii', png.length - 8, png.length - 4)).toBe('IEND');
    expect(() => encodePng(rgb, 3, 2)).toThrow(/12 bytes for a 3x2/);
  });

  it('imageGrid maps normalised values back to bytes and tiles with gaps', () => {
    const { mean, std } = CIFAR10_NORMALIZATION;
    // image 0 is all 0 (the channel means), image 1 all 1 (mean + one std) in normalised units
    const x = tf.tensor4d([...Array(12).fill(0), ...Array(12).fill(1)], [2, 2, 2, 3]);
    const g = imageGrid(x, CIFAR10_NORMALIZATION, 2, 1);
    expect([g.width, g.height]).toEqual([5, 2]);
    expect(Array.from(g.rgb.subarray(0, 3))).toEqual([0, 1, 2].map((c) => Math.round(mean[c]! * 255)));
    expect(Array.from(g.rgb.subarray(6, 9))).toEqual([0, 0, 0]); // the gap column
    expect(Array.from(g.rgb.subarray(9, 12))).toEqual([0, 1, 2].map((c) => Math.min(255, Math.round((mean[c]! + std[c]!) * 255))));
  });

  it('saveSynthesisGrid writes a PNG of the samples of an image source; synthesisOf refuses an instance without one', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'kdbench-png-')), 'grid.png');
    const source = { samples: (n: number) => tf.zeros([n, 32, 32, 3]) as tf.Tensor4D };
    expect(saveSynthesisGrid(source, file, { count: 10, cols: 5 })).toEqual({ width: 5 * 32 + 4 * 2, height: 2 * 32 + 2, images: 10 });
    expect(readFileSync(file).subarray(1, 4).toString('ascii')).toBe('PNG');
    expect(() => synthesisOf({ losses: () => ({}) })).toThrow(/synthesises no images/);
  });
});
