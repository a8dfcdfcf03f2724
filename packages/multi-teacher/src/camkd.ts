/**
 * CA-MKD: H. Zhang, D. Chen and C. Wang, "Confidence-Aware Multi-Teacher Knowledge Distillation",
 * ICASSP 2022 (arXiv:2201.00007, https://arxiv.org/abs/2201.00007; code: github.com/Rorozhl/CA-MKD).
 *
 * Each teacher is weighted per sample by how well its prediction agrees with the label, so that a
 * teacher that is wrong on a sample teaches less there. With K teachers and per-sample
 * cross-entropies CE_kb of teacher k's logits on sample b:
 *   w_kb = (1 - softmax_k(CE_kb)) / (K - 1)          (sums to 1 over k)
 *   L_kd = 1/(B K) sum_k sum_b w_kb * T^2 KL(softmax(t_kb/T) || softmax(s_b/T))
 * Intermediate layer: the student's last-stage map f_s is brought to each teacher's size (average
 * pooling down or bilinear up) and projected by a per-teacher 1x1 conv + BN + ReLU to h_k(f_s) with
 * the teacher's channels; teacher k's own classifier, applied to the pooled projection, scores it:
 *   v_kb = (1 - softmax_k(CE(classifier_k(pool(h_k(f_s)))_b, y_b))) / (K - 1)
 *   L_inter = 1/(B K) sum_k sum_b v_kb * mean_(c,h,w) (h_k(f_s)_b - f_tk_b)^2
 *   loss = gamma * CE(s, y) + alpha * L_kd + beta * L_inter
 * As in the reference code, v is not detached (its gradient reaches the projections); w depends only
 * on the teachers. Defaults: the reference's CIFAR-100 script (gamma 1, alpha 1, beta 50, T = 4).
 *
 * Checked against the authors' code: Rorozhl/CA-MKD distiller_zoo/CAMKD.py, distiller_zoo/KD.py
 * (is_ca), helper/loops.py (CAMKD branch), models/util.py (CalWeight, Embed) and README.md @
 * c2f39a9: the weights (1 - softmax over teachers of per-sample CE) / (K - 1), the per-sample T^2
 * KL and MSE, the 1/(B K) normalisation, the 1x1 conv-BN-ReLU projection of the student's last
 * stage pooled down or bilinearly resized to each teacher's map, the teacher's own classifier on
 * the projection, the undetached intermediate weights and -r 1 -a 1 -b 50 with T = 4 match; the
 * first-epoch and short-batch differences are those of the deviations.
 */
import { ConfigError, ConvStack, crossEntropy, defineMethod, moduleSeed, ModuleGroup, stageShapes, avgPoolTo } from '@kdbench/core';
import { tf } from '@kdbench/engine';
import type { Model } from '@kdbench/models';
import { ensembleOf, ensembleOutputs, parseTeachers, rowCrossEntropy, rowKL, teacherAccuracies } from './shared/ensemble.js';
import { checkEnsembleSize, DEFAULT_TEACHERS, TEACHERS_DOC } from './shared/hyper.js';

/** Confidence weights (1 - softmax over teachers of per-sample losses) / (K - 1): [K, B] -> [K, B]. */
export function confidenceWeights(losses: tf.Tensor2D): tf.Tensor2D {
  const k = losses.shape[0];
  if (k < 2) throw new Error(`camkd: confidence weights need at least 2 teachers, got ${k}`);
  return tf.tidy(() => tf.transpose(tf.div(tf.sub(1, tf.softmax(tf.transpose(losses))), k - 1)) as tf.Tensor2D);
}

/** 1/(B K) sum_k sum_b weights[k, b] * perSample[k, b]. */
export function weightedMean(weights: tf.Tensor2D, perSample: tf.Tensor2D): tf.Scalar {
  const [k, b] = perSample.shape;
  return tf.tidy(() => tf.div(tf.sum(tf.mul(weights, perSample)), b * k) as tf.Scalar);
}

/** Student map [B, H, W, C] resized to h x w: adaptive average pooling down, bilinear up. */
function toSize(f: tf.Tensor4D, h: number, w: number): tf.Tensor4D {
  const [, fh, fw] = f.shape;
  if (fh === h && fw === w) return f;
  return fh >= h ? avgPoolTo(f, h, w) : tf.image.resizeBilinear(f, [h, w], false, true);
}

export const camkd = defineMethod({
  id: 'camkd',
  title: 'Confidence-aware multi-teacher KD (CA-MKD)',
  paper: {
    authors: 'H. Zhang, D. Chen, C. Wang',
    title: 'Confidence-Aware Multi-Teacher Knowledge Distillation',
    venue: 'ICASSP',
    year: 2022,
    url: 'https://arxiv.org/abs/2201.00007',
  },
  family: 'multi-teacher',
  knowledge: 'feature',
  scheme: 'offline',
  teacher: 'required',
  defaults: { T: 4, gamma: 1, alpha: 1, beta: 50, teachers: DEFAULT_TEACHERS },
  hyperDocs: {
    T: 'softmax temperature of teachers and student',
    gamma: 'weight of the cross-entropy with labels',
    alpha: 'weight of the confidence-weighted KD loss',
    beta: 'weight of the confidence-weighted intermediate-feature loss',
    teachers: TEACHERS_DOC,
  },
  deviations:
    'The reference code leaves the intermediate term out during the first epoch and skips a shorter last batch; ' +
    'here every epoch and batch uses all terms.',
  extraTeachers: (hp, teacher) => parseTeachers('camkd', hp.teachers, teacher),
  create: (ctx) => {
    const { hp, rng } = ctx;
    if (!(hp.T > 0)) throw new ConfigError(`method 'camkd': T must be > 0, got ${hp.T}`);
    const { models, extra } = ensembleOf(ctx);
    checkEnsembleSize('camkd', models.length, 2);
    const s = stageShapes(ctx.studentShapes).at(-1)!;
    const targets = models.map((m: Model) => stageShapes(m.featureShapes()).at(-1)!);
    const projections = targets.map((t, k) => new ConvStack(
      s.channels, { h: t.height, w: t.width }, [{ out: t.channels, kernel: 1, bn: true, act: 'relu' }], moduleSeed(rng, `camkd-embed-${k}`),
    ));
    const heads = models.map((m) => { const [weight, bias] = m.classifierVariables(); return { weight: weight!, bias: bias! }; });
    return {
      parts: { projections: new ModuleGroup(projections), teachers: { metrics: (evaluate) => teacherAccuracies(models, evaluate) } },
      losses: (io) => {
        const outs = ensembleOutputs(io, extra, 'camkd');
        const labels = io.labels;
        const kdWeights = confidenceWeights(tf.stack(outs.map((o) => rowCrossEntropy(o.logits, labels))) as tf.Tensor2D);
        const kd = weightedMean(kdWeights, tf.stack(outs.map((o) => rowKL(io.student.logits, o.logits, hp.T))) as tf.Tensor2D);
        const fs = io.student.features.at(-1)!.post;
        const projected = outs.map((o, k) => {
          const ft = o.features.at(-1)!.post;
          return projections[k]!.apply(toSize(fs, ft.shape[1], ft.shape[2]));
        });
        const headCE = projected.map((p, k) => {
          const pooled = tf.mean(p, [1, 2]) as tf.Tensor2D;
          return rowCrossEntropy(tf.add(tf.matMul(pooled, heads[k]!.weight as tf.Tensor2D), heads[k]!.bias) as tf.Tensor2D, labels);
        });
        const interWeights = confidenceWeights(tf.stack(headCE) as tf.Tensor2D);
        const mse = projected.map((p, k) => {
          const b = p.shape[0];
          return tf.mean(tf.reshape(tf.squaredDifference(p, outs[k]!.features.at(-1)!.post), [b, -1]), 1);
        });
        return {
          ce: tf.mul(crossEntropy(io.student.logits, labels), hp.gamma),
          kd: tf.mul(kd, hp.alpha),
          inter: tf.mul(weightedMean(interWeights, tf.stack(mse) as tf.Tensor2D), hp.beta),
        };
      },
    };
  },
});
