/**
 * DDGSD: T.-B. Xu, C.-L. Liu, "Data-Distortion Guided Self-Distillation for Deep Neural Networks",
 * AAAI 2019 (https://ojs.aaai.org/index.php/AAAI/article/view/4498); the survey's "Xu and Liu 2019".
 *
 * One network learns from two distorted versions of each training image: their posteriors teach
 * each other and their global features are pulled together. Loss, with (a, b) the two views:
 *   L = CE(z_a, y) + CE(z_b, y) + lambda * [ KL(sg p_b || p_a) + KL(sg p_a || p_b) ] + mu * MMD^2(H_a, H_b),
 *   p = softmax(z / T) (with the T^2 factor of softTargetKL when T != 1), MMD^2(H_a, H_b) = ||mean_rows H_a - mean_rows H_b||^2
 * on the pooled features H before the classifier (a linear-kernel MMD estimate).
 * From the paper's abstract and its Fig. 2 (reproduced in the unofficial youngerous/ddgsd-pytorch
 * @ d07d90c, img/architecture.png): the two distortions (random crop and mirror) of a batch go
 * through the network together (one concatenated batch, so batch norm sees both), then the outputs
 * are split; the global features get an MMD loss, the shared classifier's posteriors CE losses and
 * KL losses in both directions. lambda = 1 and mu = 5e-4 are that reimplementation's
 * (scripts/run_ddgsd.sh; its README says its settings follow the paper). The second view is the
 * batch's own records served again by the trainer's companions hook, augmented independently.
 */
import { ConfigError, crossEntropy, defineMethod, sameRows, softTargetKL, stopGradient } from '@kdbench/core';
import { tf } from '@kdbench/engine';

/** Linear-kernel MMD^2: the squared distance between the row means of a and b ([B, D] each). */
export function linearMMD(a: tf.Tensor2D, b: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.sum(tf.squaredDifference(tf.mean(a, 0), tf.mean(b, 0))) as tf.Scalar);
}

/** The two views' KL terms, each view's posterior held fixed as the other's target. */
export function mutualViewKL(za: tf.Tensor2D, zb: tf.Tensor2D, T: number): tf.Scalar {
  return tf.tidy(() => tf.add(softTargetKL(za, stopGradient(zb), T), softTargetKL(zb, stopGradient(za), T)) as tf.Scalar);
}

export const ddgsd = defineMethod({
  id: 'ddgsd',
  title: 'Data-distortion guided self-distillation',
  paper: {
    authors: 'T.-B. Xu, C.-L. Liu',
    title: 'Data-Distortion Guided Self-Distillation for Deep Neural Networks',
    venue: 'AAAI',
    year: 2019,
    url: 'https://ojs.aaai.org/index.php/AAAI/article/view/4498',
  },
  family: 'self',
  knowledge: 'response',
  scheme: 'self',
  teacher: 'none',
  defaults: { lambda: 1, mu: 5e-4, T: 1 },
  hyperDocs: {
    lambda: 'weight of the two KL terms between the views\' posteriors (1 in the unofficial reimplementation)',
    mu: 'weight of the MMD between the views\' pooled features (5e-4 in the unofficial reimplementation)',
    T: 'softmax temperature of the KL terms (1: the posteriors of the paper\'s figure)',
  },
  deviations:
    'No code by the authors and no paper text beyond the abstract and Fig. 2 were read; assumed: the MMD kernel is linear (the squared distance of the views\' mean pooled features), '
    + 'each KL direction holds its target view fixed, T = 1 (the unofficial reimplementation\'s script uses 3, its default is 1), '
    + 'and both views are the protocol\'s crop-and-flip augmentation drawn independently (the figure names random mirror and cropping). '
    + 'The protocol\'s schedule and weight decay instead of the reimplementation\'s 200 epochs with lr x0.1 every 60 and wd 1e-4.',
  create: (ctx) => {
    const { hp } = ctx;
    for (const k of ['lambda', 'mu'] as const) if (!(hp[k] >= 0)) throw new ConfigError(`ddgsd: ${k} must be >= 0, got ${hp[k]}`);
    if (!(hp.T > 0)) throw new ConfigError(`ddgsd: T must be > 0, got ${hp.T}`);
    const secondView = sameRows(ctx.trainIds, 1);
    return {
      procedure: { companions: secondView },
      losses: (io) => {
        if (!io.companion) throw new Error('ddgsd: the batch has no second view (the trainer must serve the companions hook)');
        const n = io.x.shape[0];
        const out = ctx.student.forward(tf.concat([io.x, io.companion.x]), { training: true });
        const [za, zb] = tf.split(out.logits, [n, n]) as [tf.Tensor2D, tf.Tensor2D];
        const [ha, hb] = tf.split(out.embedding, [n, n]) as [tf.Tensor2D, tf.Tensor2D];
        return {
          ce: tf.add(crossEntropy(za, io.labels), crossEntropy(zb, io.labels)) as tf.Scalar,
          kl: tf.mul(mutualViewKL(za, zb, hp.T), hp.lambda),
          mmd: tf.mul(linearMMD(ha, hb), hp.mu),
        };
      },
    };
  },
});
