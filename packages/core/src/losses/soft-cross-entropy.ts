/**
 * Cross-entropy with soft targets: H(softmax(t/T), softmax(s/T)) = -sum_c softmax(t/T)_c log softmax(s/T)_c,
 * averaged over the batch, with no T^2 factor. It differs from KL(p_t || p_s) by the teacher's
 * entropy, a constant for the student, so the gradients are the same; the logged value is the
 * cross-entropy that Apprentice (Mishra & Marr 2018), FN (Xu et al. 2020) and TOFD (Zhang et al. 2020) write.
 */
import { tf } from '@kdbench/engine';

/** Mean over the batch of -sum_c softmax(teacher/T)_c log softmax(student/T)_c. */
export function softCrossEntropy(student: tf.Tensor2D, teacher: tf.Tensor2D, temperature: number): tf.Scalar {
  if (!(temperature > 0)) throw new Error(`temperature must be > 0, got ${temperature}`);
  return tf.tidy(() => {
    const pt = tf.softmax(tf.div(teacher, temperature));
    const logPs = tf.logSoftmax(tf.div(student, temperature));
    return tf.neg(tf.mean(tf.sum(tf.mul(pt, logPs), 1))) as tf.Scalar;
  });
}
