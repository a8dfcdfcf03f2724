/**
 * CC: B. Peng, X. Jin, J. Liu, S. Zhou, Y. Wu, Y. Liu, D. Li and Z. Zhang, "Correlation Congruence
 * for Knowledge Distillation", ICCV 2019 (arXiv:1904.01802, https://arxiv.org/abs/1904.01802).
 *
 * Besides instance congruence (KD), the student matches the correlation between instances of a
 * batch. With L2-normalised embeddings f, the Gaussian RBF kernel
 *   k(f_i, f_j) = exp(-gamma ||f_i - f_j||^2) = exp(-2 gamma) exp(2 gamma <f_i, f_j>)
 * is approximated by its P-order Taylor expansion
 *   k(f_i, f_j) ~ sum_{p=0..P} exp(-2 gamma) (2 gamma)^p / p! * <f_i, f_j>^p,
 * giving the correlation matrix C; L_CC = 1/B^2 ||C_t - C_s||_2^2 (P = 2, gamma = 0.4).
 *
 * The CRD table's CC numbers were produced by RepDistiller's `Correlation`
 * (distiller_zoo/CC.py at b84f547), which computes another loss: with d = |e_s - e_t| per
 * embedding row, L = mean over consecutive batch rows i of sum_k d[i, k] * d[i + 1, k]. That form is
 * the default (`form: 'repdistiller'`, checked against the loss-parity fixture `cc`); the paper's
 * Taylor-kernel form is `--hp form=paper`. Both act, as in the CRD benchmark, on 128-d linear
 * embeddings of the pooled features (RepDistiller's LinearEmbed for student and teacher, both
 * trained with the student): loss = gamma_ce * CE + beta * L_CC with gamma_ce = 1, beta = 0.02.
 */
import { crossEntropy, defineMethod, Embed, l2NormalizeRows, meanSquaredError, moduleSeed, embeddingDim } from '@kdbench/core';
import { tf } from '@kdbench/engine';

/** P-order Taylor expansion of the Gaussian RBF kernel between the rows of f: [B, D] -> [B, B]. */
export function rbfTaylorCorrelation(f: tf.Tensor2D, rbfGamma: number, order: number): tf.Tensor2D {
  return tf.tidy(() => {
    const n = l2NormalizeRows(f);
    const sim = tf.matMul(n, n, false, true);
    let corr: tf.Tensor = tf.zerosLike(sim);
    let factorial = 1;
    for (let p = 0; p <= order; p++) {
      if (p > 0) factorial *= p;
      const coef = (Math.exp(-2 * rbfGamma) * (2 * rbfGamma) ** p) / factorial;
      corr = tf.add(corr, tf.mul(p === 0 ? tf.onesLike(sim) : tf.pow(sim, p), coef));
    }
    return corr as tf.Tensor2D;
  });
}

/**
 * RepDistiller's CC loss: d = |es - et| ([B, D]); mean over i < B - 1 of sum_k d[i, k] d[i + 1, k]
 * (products of consecutive batch rows). A one-row batch has no consecutive pair: its loss is 0
 * (RepDistiller's mean over the empty set would be NaN).
 */
export function consecutiveRowCorrelationLoss(es: tf.Tensor2D, et: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const [b, d] = es.shape;
    if (b < 2) return tf.scalar(0);
    const delta = tf.abs(tf.sub(es, et));
    const upper = tf.slice(delta, [0, 0], [b - 1, d]);
    const lower = tf.slice(delta, [1, 0], [b - 1, d]);
    return tf.mean(tf.sum(tf.mul(upper, lower), 1)) as tf.Scalar;
  });
}

export const CC_FORMS = ['repdistiller', 'paper'] as const;

export function correlationCongruenceLoss(es: tf.Tensor2D, et: tf.Tensor2D, rbfGamma: number, order: number): tf.Scalar {
  return tf.tidy(() => meanSquaredError(rbfTaylorCorrelation(es, rbfGamma, order), rbfTaylorCorrelation(et, rbfGamma, order)));
}

export const cc = defineMethod({
  id: 'cc',
  title: 'Correlation congruence',
  paper: {
    authors: 'B. Peng, X. Jin, J. Liu, S. Zhou, Y. Wu, Y. Liu, D. Li, Z. Zhang',
    title: 'Correlation Congruence for Knowledge Distillation',
    venue: 'ICCV',
    year: 2019,
    url: 'https://arxiv.org/abs/1904.01802',
  },
  family: 'relation',
  knowledge: 'relation',
  scheme: 'offline',
  teacher: 'required',
  defaults: { gamma: 1, beta: 0.02, rbfGamma: 0.4, order: 2, featDim: 128, form: 'repdistiller' as string },
  hyperChoices: { form: ['repdistiller', 'paper'] },
  hyperDocs: {
    gamma: 'weight of the cross-entropy with labels',
    beta: 'weight of the correlation-congruence loss',
    rbfGamma: "gamma of the Gaussian RBF kernel exp(-gamma ||f_i - f_j||^2) (form 'paper' only)",
    order: "order P of the Taylor expansion of the kernel (form 'paper' only)",
    featDim: 'width of the linear embeddings of student and teacher',
    form: "'repdistiller': the CRD benchmark code's consecutive-row loss (default, produced the published CC numbers); 'paper': the Gaussian-RBF Taylor-kernel correlation of the paper",
  },
  deviations:
    "The default loss is RepDistiller's (form 'repdistiller'), which produced the CRD table's CC numbers: it is not the " +
    "paper's correlation matrix but mean_i sum_k |s_i - t_i|_k * |s_{i+1} - t_{i+1}|_k over consecutive batch rows of the " +
    "embeddings. form 'paper' is the paper's Gaussian-RBF Taylor expansion (P = 2, gamma = 0.4) with the same beta = 0.02, " +
    'which was tuned for the RepDistiller form, not for it.',
  create: ({ hp, rng, studentShapes, teacherShapes }) => {
    if (!(CC_FORMS as readonly string[]).includes(hp.form)) throw new Error(`cc: form must be one of ${CC_FORMS.join(', ')}, got '${hp.form}'`);
    const relation = (es: tf.Tensor2D, et: tf.Tensor2D) => hp.form === 'paper'
      ? correlationCongruenceLoss(es, et, hp.rbfGamma, hp.order)
      : consecutiveRowCorrelationLoss(es, et);
    const embedS = new Embed(embeddingDim(studentShapes), hp.featDim, moduleSeed(rng, 'cc-embed-s'), false);
    const embedT = new Embed(embeddingDim(teacherShapes), hp.featDim, moduleSeed(rng, 'cc-embed-t'), false);
    return {
      parts: { embedS, embedT },
      losses: (io) => ({
        ce: tf.mul(crossEntropy(io.student.logits, io.labels), hp.gamma),
        cc: tf.mul(relation(embedS.apply(io.student.embedding), embedT.apply(io.teacher.embedding)), hp.beta),
      }),
    };
  },
});
