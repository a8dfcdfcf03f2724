/**
 * Image modalities derived from a CIFAR image, for cross-modal distillation (survey section 5.3):
 * the teacher sees RGB, a student sees another modality of the same image. Every transform takes a
 * batch of *normalised* NHWC images (what the batch builder yields: (pixel / 255 - mean[c]) / std[c])
 * and returns a normalised NHWC batch of the same shape, 3 channels, so any zoo network accepts it.
 * Applied inside the student's forward pass, the same transform reaches the training and the
 * evaluation split.
 *
 * - `rgb`: the image itself.
 * - `gray`: luminance Y = 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601, as PIL's convert('L') and
 *   torchvision's rgb_to_grayscale) of the pixel values, copied to the three channels.
 * - `low8` / `low16`: resolution reduced to 8x8 / 16x16 by averaging each block of pixels (area
 *   downsampling; the image side must be a multiple), then upsampled back to the input size by
 *   bilinear interpolation with half-pixel centres (PyTorch's F.interpolate(mode='bilinear',
 *   align_corners=False)). Both steps are convex combinations per channel, so they commute with
 *   the per-channel normalisation and run directly on the normalised values.
 * - `edge`: Sobel gradient magnitude of the luminance (pixel values in [0, 1], borders replicated),
 *   divided by 4 and clipped to [0, 1], so that a black-to-white step edge is 1; copied to the three
 *   channels.
 * Channels copied from one map are normalised with each channel's own constants, as a grayscale
 * image converted back to RGB would be.
 */
import { tf } from '@kdbench/engine';
import type { Normalization } from './normalize.js';

export type Modality = 'rgb' | 'gray' | 'low8' | 'low16' | 'edge';

export const MODALITIES: readonly Modality[] = ['rgb', 'gray', 'low8', 'low16', 'edge'];

/** ITU-R BT.601 luma weights of R, G, B. */
export const LUMA_WEIGHTS: readonly [number, number, number] = [0.299, 0.587, 0.114];

export function isModality(name: string): name is Modality {
  return (MODALITIES as readonly string[]).includes(name);
}

/** The batch `x` (normalised NHWC, 3 channels) seen through `modality`, normalised with `norm`. */
export function applyModality(x: tf.Tensor4D, modality: Modality, norm: Normalization): tf.Tensor4D {
  if (x.rank !== 4 || x.shape[3] !== 3) throw new Error(`applyModality: expected a normalised NHWC batch [B, H, W, 3], got [${x.shape}]`);
  switch (modality) {
    case 'rgb':
      return x;
    case 'gray':
      return tf.tidy(() => normalizeMap(luminance(x, norm), norm));
    case 'low8':
      return lowResolution(x, 8);
    case 'low16':
      return lowResolution(x, 16);
    case 'edge':
      return tf.tidy(() => normalizeMap(sobelMagnitude(luminance(x, norm)), norm));
    default:
      throw new Error(`applyModality: unknown modality '${String(modality)}' (known: ${MODALITIES.join(', ')})`);
  }
}

/** Pixel values in [0, 1] of a normalised batch: x * std[c] + mean[c]. */
export function denormalize(x: tf.Tensor4D, norm: Normalization): tf.Tensor4D {
  return tf.tidy(() => tf.add(tf.mul(x, tf.tensor1d([...norm.std])), tf.tensor1d([...norm.mean])));
}

/** Luminance [B, H, W, 1] in pixel units of a normalised RGB batch. */
export function luminance(x: tf.Tensor4D, norm: Normalization): tf.Tensor4D {
  return tf.tidy(() => tf.sum(tf.mul(denormalize(x, norm), tf.tensor1d([...LUMA_WEIGHTS])), 3, true) as tf.Tensor4D);
}

/** A one-channel map of pixel values [B, H, W, 1], copied to R, G, B and normalised per channel. */
function normalizeMap(map: tf.Tensor4D, norm: Normalization): tf.Tensor4D {
  return tf.div(tf.sub(tf.tile(map, [1, 1, 1, 3]), tf.tensor1d([...norm.mean])), tf.tensor1d([...norm.std]));
}

/** Area downsampling to size x size, then bilinear (half-pixel centres) back to the input size. */
export function lowResolution(x: tf.Tensor4D, size: number): tf.Tensor4D {
  const [, h, w] = x.shape;
  if (!Number.isInteger(size) || size < 1 || h % size !== 0 || w % size !== 0) {
    throw new Error(`lowResolution: a ${h}x${w} image cannot be averaged down to ${size}x${size} (the side must be a multiple)`);
  }
  return tf.tidy(() => {
    const small = tf.avgPool(x, [h / size, w / size], [h / size, w / size], 'valid');
    return tf.image.resizeBilinear(small, [h, w], false, true);
  });
}

/**
 * Sobel gradient magnitude of a one-channel map [B, H, W, 1] (edges replicated), / 4, clipped to
 * [0, 1]: gx = [-1 0 1; -2 0 2; -1 0 1] * m, gy = its transpose, |g| = sqrt(gx^2 + gy^2).
 */
export function sobelMagnitude(map: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const padded = replicatePad(map);
    // filter [3, 3, 1, 2]: output channel 0 is gx (horizontal derivative), 1 is gy (vertical)
    const gx = [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]];
    const k = new Float32Array(18);
    for (let r = 0; r < 3; r++) {
      for (let c = 0; c < 3; c++) {
        k[(r * 3 + c) * 2] = gx[r]![c]!;
        k[(r * 3 + c) * 2 + 1] = gx[c]![r]!;
      }
    }
    const g = tf.conv2d(padded, tf.tensor4d(k, [3, 3, 1, 2]), 1, 'valid');
    const mag = tf.sqrt(tf.sum(tf.square(g), 3, true));
    return tf.clipByValue(tf.div(mag, 4), 0, 1) as tf.Tensor4D;
  });
}

/** Pads one pixel on every side by repeating the border row / column. */
function replicatePad(x: tf.Tensor4D): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const rows = tf.concat([tf.slice(x, [0, 0, 0, 0], [b, 1, w, c]), x, tf.slice(x, [0, h - 1, 0, 0], [b, 1, w, c])], 1);
  return tf.concat([tf.slice(rows, [0, 0, 0, 0], [b, h + 2, 1, c]), rows, tf.slice(rows, [0, 0, w - 1, 0], [b, h + 2, 1, c])], 2);
}
