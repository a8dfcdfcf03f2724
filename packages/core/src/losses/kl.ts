/**
 * Response-level losses shared by every method: cross-entropy with labels and the
 * temperature-softened KL divergence of Hinton et al. (2015), batch-averaged or per row (`rowKL`,
 * `rowCrossEntropy`: multi-teacher weighting, the gates of the knowledge transfer graph).
 */
import { tf } from '@kdbench/engine';

/** Mean cross-entropy of logits [B, C] against integer labels [B]. */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const logp = tf.logSoftmax(logits);
    const onehot = tf.oneHot(tf.cast(labels, 'int32'), logits.shape[1]);
    return tf.neg(tf.mean(tf.sum(tf.mul(onehot, logp), 1))) as tf.Scalar;
  });
}

/**
 * T^2 * KL(softmax(teacher/T) || softmax(student/T)), summed over classes and averaged over the
 * batch ("batchmean"); the T^2 factor keeps gradient magnitudes independent of T (Hinton 2015).
 * Gradients flow into whichever argument is being differentiated; the trainer computes the
 * teacher outside the gradient tape, so for offline methods only the student learns.
 */
export function softTargetKL(student: tf.Tensor2D, teacher: tf.Tensor2D, temperature: number): tf.Scalar {
  if (!(temperature > 0)) throw new Error(`temperature must be > 0, got ${temperature}`);
  return tf.tidy(() => {
    const logPs = tf.logSoftmax(tf.div(student, temperature));
    const logPt = tf.logSoftmax(tf.div(teacher, temperature));
    const pt = tf.exp(logPt);
    const kl = tf.sum(tf.mul(pt, tf.sub(logPt, logPs)), 1);
    return tf.mul(tf.mean(kl), temperature * temperature);
  });
}

/** Top-k accuracy counts of logits against labels: how many rows have the label in their top k. */
export function topKCorrect(logits: tf.Tensor2D, labels: tf.Tensor1D, k: number): number {
  return tf.tidy(() => {
    const kk = Math.min(k, logits.shape[1]);
    const { indices } = tf.topk(logits, kk);
    const hit = tf.equal(indices, tf.expandDims(tf.cast(labels, 'int32'), 1));
    return tf.sum(tf.cast(tf.any(hit, 1), 'int32')).dataSync()[0]!;
  });
}

/** T^2 * KL(softmax(t/T) || softmax(s/T)) of every row: [B]. */
export function rowKL(student: tf.Tensor2D, teacher: tf.Tensor2D, T: number): tf.Tensor1D {
  return tf.tidy(() => {
    const logPs = tf.logSoftmax(tf.div(student, T));
    const logPt = tf.logSoftmax(tf.div(teacher, T));
    return tf.mul(tf.sum(tf.mul(tf.exp(logPt), tf.sub(logPt, logPs)), 1), T * T) as tf.Tensor1D;
  });
}

/** Cross-entropy of every row of logits [B, C] against integer labels [B]: [B]. */
export function rowCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => tf.neg(tf.sum(tf.mul(tf.oneHot(tf.cast(labels, 'int32'), logits.shape[1]), tf.logSoftmax(logits)), 1)) as tf.Tensor1D);
}
