/**
 * Writing one record into an NHWC float32 batch buffer: planar CHW bytes -> normalised floats,
 * with an optional crop (offsets into the image zero-padded by PAD pixels) and horizontal flip.
 * Padding is zero in pixel space, so padded pixels take the normalised value of byte 0.
 */
import { IMAGE_SIZE } from './datasets.js';

/** Zero padding on each side for the random crop. */
export const PAD = 4;

export interface RecordTransform {
  /** Crop offsets in the padded (40x40) image, 0..2*PAD; PAD, PAD means no shift. */
  readonly cropY: number;
  readonly cropX: number;
  readonly flip: boolean;
}

export const IDENTITY: RecordTransform = { cropY: PAD, cropX: PAD, flip: false };

/**
 * out[outOffset + (y * 32 + x) * 3 + c] = lut[c * 256 + padded(c, y + cropY, xs + cropX)], with
 * xs = 31 - x when flipped, padded(...) = image(c, y + cropY - PAD, xs + cropX - PAD) or 0 outside.
 */
export function writeRecord(
  images: Uint8Array,
  record: number,
  out: Float32Array,
  outOffset: number,
  lut: Float32Array,
  t: RecordTransform,
): void {
  const S = IMAGE_SIZE;
  const plane = S * S;
  const src = record * 3 * plane;
  const dy = t.cropY - PAD;
  const dx = t.cropX - PAD;
  for (let y = 0; y < S; y++) {
    const sy = y + dy;
    const rowOut = outOffset + y * S * 3;
    const rowIn = sy >= 0 && sy < S;
    for (let x = 0; x < S; x++) {
      const sx = (t.flip ? S - 1 - x : x) + dx;
      const o = rowOut + x * 3;
      if (rowIn && sx >= 0 && sx < S) {
        const p = src + sy * S + sx;
        out[o] = lut[images[p]!]!;
        out[o + 1] = lut[256 + images[p + plane]!]!;
        out[o + 2] = lut[512 + images[p + 2 * plane]!]!;
      } else {
        out[o] = lut[0]!;
        out[o + 1] = lut[256]!;
        out[o + 2] = lut[512]!;
      }
    }
  }
}
