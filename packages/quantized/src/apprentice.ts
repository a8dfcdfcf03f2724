/**
 * Apprentice: A. Mishra, D. Marr, "Apprentice: Using Knowledge Distillation Techniques To Improve
 * Low-Precision Network Accuracy", ICLR 2018 (arXiv:1711.05852, https://arxiv.org/abs/1711.05852).
 *
 * The paper's joint loss over a full-precision teacher T and a low-precision student A is
 *   L = alpha * H(y, p_T) + beta * H(y, p_A) + gamma * H(z_T, p_A),
 * where H(z_T, p_A) is the cross-entropy of the student's softmax against the teacher's soft targets,
 * and it studies three schemes: A, teacher and student trained jointly from scratch; B, a trained
 * full-precision teacher distilled into a low-precision student; C, B with the student initialised
 * from a trained full-precision student and fine-tuned at low precision.
 * This is scheme B (the benchmark's teachers come trained from the teacher store, and every student
 * here starts from the same initialisation): the teacher is fixed, so its alpha term is a constant and
 *   loss = beta * CE(y, softmax(s_q)) + gamma * H(softmax(t / T), softmax(s_q / T)),
 * with beta = gamma = 0.5 and T = 1, the paper's setting (alpha = 1 only weighs the teacher's own term).
 *
 * No public code from the authors (searched: the code corpus for the paper's title and authors;
 * only third-party projects citing it).
 */
import { crossEntropy, defineMethod } from '@kdbench/core';
import { tf } from '@kdbench/engine';
import { QUANT_DEFAULTS, QUANT_DOCS, quantizedStudent, sizeRecord } from './shared/student.js';

/** H(softmax(t/T), softmax(s/T)) = -sum_c softmax(t/T)_c log softmax(s/T)_c, averaged over the batch. */
export function softCrossEntropy(student: tf.Tensor2D, teacher: tf.Tensor2D, temperature: number): tf.Scalar {
  if (!(temperature > 0)) throw new Error(`temperature must be > 0, got ${temperature}`);
  return tf.tidy(() => {
    const pt = tf.softmax(tf.div(teacher, temperature));
    const logPs = tf.logSoftmax(tf.div(student, temperature));
    return tf.neg(tf.mean(tf.sum(tf.mul(pt, logPs), 1))) as tf.Scalar;
  });
}

export const apprentice = defineMethod({
  id: 'apprentice',
  title: 'Apprentice (scheme B: trained full-precision teacher, low-precision student)',
  paper: {
    authors: 'A. Mishra, D. Marr',
    title: 'Apprentice: Using Knowledge Distillation Techniques To Improve Low-Precision Network Accuracy',
    venue: 'ICLR',
    year: 2018,
    url: 'https://arxiv.org/abs/1711.05852',
  },
  family: 'quantized',
  knowledge: 'response',
  scheme: 'offline',
  teacher: 'required',
  teacherOutputs: 'logits',
  defaults: { ...QUANT_DEFAULTS, T: 1, beta: 0.5, gamma: 0.5 },
  hyperDocs: {
    ...QUANT_DOCS,
    T: 'softmax temperature of the soft targets (1 in the paper)',
    beta: 'weight of the student cross-entropy with labels',
    gamma: "weight of the student cross-entropy with the teacher's soft targets",
  },
  deviations:
    'Apprentice quantises with WRPN-style fixed ranges (weights clipped to [-1, 1], activations to [0, 1]) and keeps the first and last layers in full precision; '
    + 'here the shared quantiser is used (symmetric per-channel weights, TWN ternary at 2 bits, PACT-style learned clips, first and last layers at edgeBits). '
    + 'Only scheme B is implemented (schemes A and C need a jointly trained teacher or a pre-trained full-precision student).',
  create: (ctx) => {
    const { hp } = ctx;
    const student = quantizedStudent(ctx);
    return {
      procedure: { student },
      parts: { size: { metrics: () => sizeRecord(student) } },
      losses: (io) => ({
        ce: tf.mul(crossEntropy(io.student.logits, io.labels), hp.beta),
        soft: tf.mul(softCrossEntropy(io.student.logits, io.teacher.logits, hp.T), hp.gamma),
      }),
    };
  },
});
