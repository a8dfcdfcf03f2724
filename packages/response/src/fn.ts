/**
 * FN: K. Xu, L. Rui, Y. Li, L. Gu, "Feature Normalized Knowledge Distillation for Image
 * Classification", ECCV 2020 (LNCS 12370; https://doi.org/10.1007/978-3-030-58595-2_40).
 * Code: https://github.com/aztc/FNKD.
 *
 * The one-hot label is noisy, and under that noise the L2 norm of the penultimate feature grows;
 * KD's single temperature T acts as a correction of that norm. FN replaces T by a per-sample
 * correction from the feature norm: each network classifies its pooled feature f after rescaling
 * it to a norm of at most tau,
 *   z^ = W (f / ||f|| * min(||f||, tau)) + b        (W, b: the network's own classifier),
 * so a sample with ||f|| > tau has its own temperature ||f|| / tau on W f. The student learns
 *   loss = gamma * CE(W_s f_s + b_s, y) + lambda * H(softmax(z^_t), softmax(z^_s)),
 * H(p, q) = -sum_c p_c log q_c averaged over the batch, with no further temperature and no T^2.
 * The student is evaluated on its plain logits W_s f_s + b_s.
 *
 * Everything comes from the authors' code, aztc/FNKD at 099b6ca9ef824a678acf9b2f44ffd7176b51d234
 * (the paper's method section could not be read): models/symbol_Resnet_cifar.py
 * (`CIFARResNetV2.hybrid_forward`: the norm clipped to [0, tau], the L2-normalised feature scaled
 * by it, the same weight and bias for both heads) and train_gluon_script_cifar.py (the
 * `norm_distill` branch: tau = `opt.norm` = 2, lambda = `norm_distill_w` = 9, CE weight 1; the
 * teacher outputs only its normalised head, softmax at temperature 1, outside the autograd record).
 *
 * The knowledge moved is the teacher's class distribution, so FN sits with the response methods,
 * although the survey (Gou et al. 2021, Tables 5 and 6) labels it feature-based.
 */
import { crossEntropy, defineMethod, safeNorm, softCrossEntropy, stopGradient } from '@kdbench/core';
import { tf } from '@kdbench/engine';

/** W (f / ||f|| * min(||f||, tau)) + b for pooled features f [B, D] and a classifier W [D, C], b [C]. */
export function normalizedLogits(f: tf.Tensor2D, weight: tf.Tensor, bias: tf.Tensor, tau: number): tf.Tensor2D {
  return tf.tidy(() => {
    const norm = safeNorm(f, 1);
    const scaled = tf.mul(f, tf.div(tf.minimum(norm, tau), norm)) as tf.Tensor2D;
    return tf.add(tf.matMul(scaled, weight as tf.Tensor2D), bias) as tf.Tensor2D;
  });
}

export const fn = defineMethod({
  id: 'fn',
  title: 'Feature normalized KD (per-sample temperature from the feature norm)',
  paper: {
    authors: 'K. Xu, L. Rui, Y. Li, L. Gu',
    title: 'Feature Normalized Knowledge Distillation for Image Classification',
    venue: 'ECCV',
    year: 2020,
    url: 'https://doi.org/10.1007/978-3-030-58595-2_40',
  },
  family: 'response',
  knowledge: 'response',
  scheme: 'offline',
  teacher: 'required',
  defaults: { tau: 2, lambda: 9, gamma: 1 },
  hyperDocs: {
    tau: 'largest feature norm kept before the classifier (a sample with ||f|| > tau gets temperature ||f|| / tau)',
    lambda: 'weight of the cross-entropy between the normalised heads of teacher and student',
    gamma: 'weight of the cross-entropy with labels on the plain head',
  },
  deviations:
    'The paper\'s equations could not be read; the loss is the authors\' code\'s (aztc/FNKD at 099b6ca). '
    + 'The authors train pre-activation (v2) CIFAR ResNets with an input batch norm, 200 epochs and weight decay 1e-4; '
    + 'here the zoo\'s networks and the run\'s protocol are used. MXNet\'s L2Normalization adds 1e-10 under the square root; '
    + 'here the norm is max(||f||, 1e-12), which differs only for features of norm below 1e-5.',
  create: ({ hp, student, teacher }) => {
    if (!(hp.tau > 0)) throw new Error(`fn: tau must be > 0, got ${hp.tau}`);
    if (!(hp.lambda >= 0)) throw new Error(`fn: lambda must be >= 0, got ${hp.lambda}`);
    if (!(hp.gamma >= 0)) throw new Error(`fn: gamma must be >= 0, got ${hp.gamma}`);
    const [ws, bs] = student.classifierVariables();
    const [wt, bt] = teacher.classifierVariables();
    if (!ws || !bs || !wt || !bt) throw new Error('fn: student and teacher need a linear classifier (weight and bias)');
    return {
      losses: (io) => {
        const teacherHead = stopGradient(normalizedLogits(io.teacher.embedding, wt, bt, hp.tau));
        const studentHead = normalizedLogits(io.student.embedding, ws, bs, hp.tau);
        return {
          ce: tf.mul(crossEntropy(io.student.logits, io.labels), hp.gamma),
          fn: tf.mul(softCrossEntropy(studentHead, teacherHead, 1), hp.lambda),
        };
      },
    };
  },
});

