/**
 * The one place kdbench imports TensorFlow.js from. Every package uses `tf` from here so that
 * all of them share one engine (and whichever backend the resolver picked).
 */
import * as tf from '@tensorflow/tfjs';

export { tf };
export type Tensor = tf.Tensor;
export type Scalar = tf.Scalar;
export type Tensor1D = tf.Tensor1D;
export type Tensor2D = tf.Tensor2D;
export type Tensor4D = tf.Tensor4D;
export type Variable = tf.Variable;
