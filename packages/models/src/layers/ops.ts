/**
 * Parameter-free building blocks shared by the architectures: ReLU, global average pooling,
 * 2x2 max pooling (VGG, Simonyan & Zisserman, ICLR 2015; AlexNet), 2x2 average pooling
 * (DenseNet), PyTorch-style 3x3/2 average pooling with zero padding counted in the mean
 * (ShuffleNet's shortcut, Zhang et al., CVPR 2018), and channel shuffle/split (ShuffleNet V1/V2,
 * Ma et al., ECCV 2018).
 */
import { tf } from '@kdbench/engine';
import type { Size2d } from './store.js';

export function relu(x: tf.Tensor4D): tf.Tensor4D {
  return tf.relu(x);
}

/** [B, H, W, C] -> [B, C]. */
export function globalAvgPool(x: tf.Tensor4D): tf.Tensor2D {
  return tf.mean(x, [1, 2]) as tf.Tensor2D;
}

export function maxPool2(x: tf.Tensor4D): tf.Tensor4D {
  return tf.maxPool(x, 2, 2, 'valid');
}

/** 2x2 average pooling with stride 2 (DenseNet's transition layers, Huang et al., CVPR 2017). */
export function avgPool2(x: tf.Tensor4D): tf.Tensor4D {
  return tf.avgPool(x, 2, 2, 'valid');
}

/** Output size of the 2x2 stride-2 poolings. */
export function maxPool2Size(s: Size2d): Size2d {
  return { h: Math.floor(s.h / 2), w: Math.floor(s.w / 2) };
}

/** nn.AvgPool2d(3, stride=2, padding=1) with count_include_pad=True (PyTorch's default). */
export function avgPool3s2p1(x: tf.Tensor4D): tf.Tensor4D {
  const padded = tf.pad(x, [
    [0, 0],
    [1, 1],
    [1, 1],
    [0, 0],
  ]);
  return tf.avgPool(padded, 3, 2, 'valid');
}

export function avgPool3s2p1Size(s: Size2d): Size2d {
  const f = (n: number) => Math.floor((n + 2 - 3) / 2) + 1;
  return { h: f(s.h), w: f(s.w) };
}

/**
 * Channel shuffle with `groups` groups: channel g*(C/g)+i moves to i*g+g (PyTorch's
 * view(N,g,C/g,H,W).permute(0,2,1,3,4)), done on NHWC.
 */
export function channelShuffle(x: tf.Tensor4D, groups: number): tf.Tensor4D {
  if (groups === 1) return x;
  const [n, h, w, c] = x.shape;
  const r = tf.reshape(x, [n, h, w, groups, c / groups]);
  return tf.reshape(tf.transpose(r, [0, 1, 2, 4, 3]), [n, h, w, c]);
}

/** Splits channels into the first `first` channels and the rest. */
export function splitChannels(x: tf.Tensor4D, first: number): [tf.Tensor4D, tf.Tensor4D] {
  const c = x.shape[3];
  const [a, b] = tf.split(x, [first, c - first], 3) as tf.Tensor4D[];
  return [a!, b!];
}

export function concatChannels(xs: tf.Tensor4D[]): tf.Tensor4D {
  return tf.concat(xs, 3);
}
