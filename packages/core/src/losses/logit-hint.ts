/**
 * The logit hint of rocket launching (Zhou et al., AAAI 2018) and of CTKD's scratch teacher
 * (Zhao et al. 2020), both from the Rocket-Launching code: a squared distance between a student's
 * logits and those of a net trained beside it, with the gradient blocked on the latter's side.
 */
import { tf } from '@kdbench/engine';
import { stopGradient } from './relations.js';

/** gamma * sum((sg(guide) - student)^2) / batchSize: no gradient reaches the guide's logits; batchSize is the configured one (the code's opt.batchSize). */
export function logitHint(student: tf.Tensor2D, guide: tf.Tensor2D, gamma: number, batchSize: number): tf.Scalar {
  return tf.tidy(() => tf.mul(tf.sum(tf.squaredDifference(stopGradient(guide), student)), gamma / batchSize) as tf.Scalar);
}
