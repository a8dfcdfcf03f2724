/** The modality transforms of @kdbench/data (src/modalities.ts) on hand-made images. */
import { beforeAll, describe, expect, it } from 'vitest';
import { applyModality, CIFAR10_NORMALIZATION as N, denormalize, lowResolution, sobelMagnitude } from '@kdbench/data';
import { tf } from '@kdbench/engine';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A normalised [1, H, W, 3] batch from pixel values in [0, 1] given per position as [r, g, b]. */
function image(rgb: number[][][]): tf.Tensor4D {
  const flat = rgb.flatMap((row) => row.flatMap((p) => p.map((v, c) => (v - N.mean[c]!) / N.std[c]!)));
  return tf.tensor4d(flat, [1, rgb.length, rgb[0]!.length, 3]);
}

/** A gray image (r = g = b) from a matrix of pixel values. */
const grayImage = (m: number[][]) => image(m.map((row) => row.map((v) => [v, v, v])));

/** The pixel values [H][W][3] of a normalised batch's first image. */
function pixels(x: tf.Tensor4D): number[][][] {
  return (denormalize(x, N).arraySync() as number[][][][])[0]!;
}

function expectMap(x: tf.Tensor4D, expected: number[][], digits = 5): void {
  const p = pixels(x);
  expected.forEach((row, i) => row.forEach((v, j) => {
    for (let c = 0; c < 3; c++) expect(p[i]![j]![c], `(${i}, ${j}, ${c})`).toBeCloseTo(v, digits);
  }));
}

describe('modalities derived from CIFAR images', () => {
  it('rgb is the image itself', () => {
    const x = image([[[0.2, 0.4, 0.6]]]);
    expect(applyModality(x, 'rgb', N)).toBe(x);
  });

  it('gray: BT.601 luminance copied to the three channels', () => {
    // (1,0,0) -> 0.299, (0,1,0) -> 0.587, (0,0,1) -> 0.114, (0.2,0.4,0.6) -> 0.0598 + 0.2348 + 0.0684 = 0.363
    const x = image([[[1, 0, 0], [0, 1, 0]], [[0, 0, 1], [0.2, 0.4, 0.6]]]);
    expectMap(applyModality(x, 'gray', N), [[0.299, 0.587], [0.114, 0.363]]);
  });

  it('low resolution: block means, then bilinear upsampling with half-pixel centres', () => {
    // 4x4 image of four constant 2x2 blocks 0.1, 0.3 / 0.5, 0.7. Down to 2x2: the block values.
    // Up along a row: output column j samples (j + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25 (clamped to [0, 1]):
    //   (a, b) -> (a, 0.75 a + 0.25 b, 0.25 a + 0.75 b, b); the same along columns.
    const m = [[0.1, 0.1, 0.3, 0.3], [0.1, 0.1, 0.3, 0.3], [0.5, 0.5, 0.7, 0.7], [0.5, 0.5, 0.7, 0.7]];
    const top = [0.1, 0.15, 0.25, 0.3], bottom = [0.5, 0.55, 0.65, 0.7];
    const mix = (a: number, b: number) => top.map((t, j) => a * t + b * bottom[j]!);
    expectMap(lowResolution(grayImage(m), 2), [top, mix(0.75, 0.25), mix(0.25, 0.75), bottom]);
    // on normalised values, per channel: the same as in pixel space (convex combinations commute with x * std + mean)
    const colour = image(m.map((row, i) => row.map((v, j) => [v, (i + j) / 8, 1 - v])));
    const low = pixels(lowResolution(colour, 2));
    expect(low[1]![2]![1]).toBeCloseTo(0.75 * (0.25 * 0.125 + 0.75 * 0.375) + 0.25 * (0.25 * 0.375 + 0.75 * 0.625), 5);
    expect(low[1]![2]![2]).toBeCloseTo(1 - mix(0.75, 0.25)[2]!, 5);
    expect(() => lowResolution(grayImage(m), 3)).toThrow(/cannot be averaged down to 3x3/);
  });

  it('low8 and low16 on a 32x32 image: shape kept, constants kept, 4x4 / 2x2 block means', () => {
    const c = tf.tidy(() => image(Array.from({ length: 32 }, () => Array.from({ length: 32 }, () => [0.3, 0.5, 0.7]))));
    for (const mod of ['low8', 'low16'] as const) {
      const y = applyModality(c, mod, N);
      expect(y.shape).toEqual([1, 32, 32, 3]);
      expect(tf.max(tf.abs(tf.sub(y, c))).dataSync()[0]).toBeLessThan(1e-5);
    }
    // a horizontal ramp v = x / 31: low8 averages columns 4b..4b+3 -> (4b + 1.5) / 31; output column 1 samples
    // (1 + 0.5) / 4 - 0.5 = -0.125 -> clamped to block 0; column 6 samples 1.125 -> 0.875 b1 + 0.125 b2
    const ramp = grayImage(Array.from({ length: 32 }, () => Array.from({ length: 32 }, (_, x) => x / 31)));
    const p = pixels(applyModality(ramp, 'low8', N));
    const block = (b: number) => (4 * b + 1.5) / 31;
    expect(p[0]![1]![0]).toBeCloseTo(block(0), 5);
    expect(p[5]![6]![1]).toBeCloseTo(0.875 * block(1) + 0.125 * block(2), 5);
  });

  it('edge: Sobel magnitude / 4 with replicated borders, clipped to 1', () => {
    // vertical step 0 | 1 between columns 1 and 2: gx = (1 + 2 + 1) * 1 = 4 at columns 1 and 2, 0 at the borders
    const step = [[0, 0, 1, 1], [0, 0, 1, 1], [0, 0, 1, 1]];
    expectMap(applyModality(grayImage(step), 'edge', N), step.map(() => [0, 1, 1, 0]));
    // ramp 0, 0.1, 0.2, 0.3: interior gx = 4 * 0.2 = 0.8 -> 0.2; borders 4 * 0.1 = 0.4 -> 0.1
    expectMap(applyModality(grayImage([[0, 0.1, 0.2, 0.3], [0, 0.1, 0.2, 0.3]]), 'edge', N), [[0.1, 0.2, 0.2, 0.1], [0.1, 0.2, 0.2, 0.1]]);
    // one bright pixel in the centre of a 3x3 image: edge midpoints |gy| or |gx| = 2 -> 0.5; corners gx = gy = 1
    // -> sqrt(2) / 4 = 0.353553; centre 0
    const c = Math.SQRT2 / 4;
    expectMap(applyModality(grayImage([[0, 0, 0], [0, 1, 0], [0, 0, 0]]), 'edge', N), [[c, 0.5, c], [0.5, 0, 0.5], [c, 0.5, c]]);
    // a dark corner: gx = gy = 3 at (0, 0) -> sqrt(18) / 4 = 1.06 -> clipped to 1
    const corner = (sobelMagnitude(tf.tensor4d([0, 1, 1, 1, 1, 1, 1, 1, 1], [1, 3, 3, 1])).arraySync() as number[][][][])[0]!;
    expect(corner[0]![0]![0]).toBe(1);
    // the luminance of a coloured image feeds the edges: (1, 0, 0) next to black is a 0.299 step
    expectMap(applyModality(image([[[0, 0, 0], [1, 0, 0]]]), 'edge', N), [[0.299, 0.299]]);
  });

  it('rejects non-NHWC-RGB input and unknown modalities', () => {
    expect(() => applyModality(tf.zeros([1, 4, 4, 1]) as tf.Tensor4D, 'gray', N)).toThrow(/\[B, H, W, 3\]/);
    expect(() => applyModality(tf.zeros([1, 4, 4, 3]) as tf.Tensor4D, 'depth' as never, N)).toThrow(/unknown modality 'depth'/);
  });

  it('leaves no tensors behind', () => {
    const x = image([[[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]], [[0.7, 0.8, 0.9], [0.2, 0.2, 0.2]]]);
    const before = tf.memory().numTensors;
    for (const m of ['gray', 'edge'] as const) applyModality(x, m, N).dispose();
    lowResolution(x, 1).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
