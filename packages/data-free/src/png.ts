/**
 * A minimal PNG writer (8-bit RGB, no interlace, filter 0 on every row, zlib from node:zlib) and
 * the synthesis grid a data-free run saves for its report: images drawn from the method's
 * synthesiser, mapped back from the normalised input space to pixels, tiled in a grid.
 * PNG format: signature, IHDR, IDAT (zlib stream of filtered scanlines), IEND; each chunk is
 * length, type, data, CRC-32 of type + data (ISO/IEC 15948).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { NORMALIZATION, type DatasetId, type Normalization } from '@kdbench/data';
import { tf } from '@kdbench/engine';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (the polynomial of PNG and zlib's crc32). */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  Buffer.from(data.buffer, data.byteOffset, data.byteLength).copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** PNG bytes of an 8-bit RGB image given as width*height*3 bytes, row-major. */
export function encodePng(rgb: Uint8Array, width: number, height: number): Buffer {
  if (!(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0)) {
    throw new Error(`encodePng: bad size ${width}x${height}`);
  }
  if (rgb.length !== width * height * 3) throw new Error(`encodePng: ${rgb.length} bytes for a ${width}x${height} RGB image (need ${width * height * 3})`);
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // colour type: truecolour
  // compression, filter, interlace: 0
  const raw = Buffer.alloc(height * (1 + width * 3));
  for (let y = 0; y < height; y++) {
    raw[y * (1 + width * 3)] = 0; // filter type None
    Buffer.from(rgb.buffer, rgb.byteOffset + y * width * 3, width * 3).copy(raw, y * (1 + width * 3) + 1);
  }
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', header), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0))]);
}

/**
 * Tiles normalised images [n, h, w, 3] into one RGB byte grid (`cols` per row, `gap` pixels of
 * black between tiles): pixel = clamp(round((x * std + mean) * 255)).
 */
export function imageGrid(images: tf.Tensor4D, norm: Normalization, cols = 8, gap = 2): { rgb: Uint8Array; width: number; height: number } {
  const [n, h, w, c] = images.shape;
  if (c !== 3) throw new Error(`imageGrid: expected 3 channels, got ${c}`);
  const k = Math.min(cols, n);
  const rows = Math.ceil(n / k);
  const width = k * w + (k - 1) * gap;
  const height = rows * h + (rows - 1) * gap;
  const values = images.dataSync();
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < n; i++) {
    const ox = (i % k) * (w + gap);
    const oy = Math.floor(i / k) * (h + gap);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        for (let ch = 0; ch < 3; ch++) {
          const v = values[((i * h + y) * w + x) * 3 + ch]! * norm.std[ch]! + norm.mean[ch]!;
          rgb[((oy + y) * width + ox + x) * 3 + ch] = Math.max(0, Math.min(255, Math.round(v * 255)));
        }
      }
    }
  }
  return { rgb, width, height };
}

/** Whatever can draw synthesised images: n images in the normalised input space (the caller disposes them). */
export interface ImageSource {
  samples(n: number): tf.Tensor4D;
}

/**
 * Writes a PNG grid of `count` images drawn from a data-free method's image source (after
 * training, for the report). The dataset fixes the normalisation the images are mapped back with.
 */
export function saveSynthesisGrid(
  source: ImageSource, file: string, opts: { dataset?: DatasetId; count?: number; cols?: number } = {},
): { width: number; height: number; images: number } {
  const count = opts.count ?? 64;
  const images = source.samples(count);
  try {
    const grid = imageGrid(images, NORMALIZATION[opts.dataset ?? 'cifar10'], opts.cols ?? 8);
    writeFileSync(file, encodePng(grid.rgb, grid.width, grid.height));
    return { width: grid.width, height: grid.height, images: images.shape[0] };
  } finally {
    images.dispose();
  }
}

/** The run artifact: `synthesis.png` in the run folder; returns its name. */
export function synthesisArtifact(source: ImageSource, dir: string, dataset: DatasetId): string {
  const name = 'synthesis.png';
  saveSynthesisGrid(source, join(dir, name), { dataset });
  return name;
}
