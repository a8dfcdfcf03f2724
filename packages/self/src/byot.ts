/**
 * BYOT (self distillation): L. Zhang, J. Song, A. Gao, J. Chen, C. Bao, K. Ma, "Be Your Own Teacher:
 * Improve the Performance of Convolutional Neural Networks via Self Distillation", ICCV 2019
 * (arXiv:1905.08094, https://arxiv.org/abs/1905.08094).
 *
 * The network is cut into sections at its stage ends; after every shallow stage a bottleneck
 * (1x1 conv -> BN -> ReLU, k x k conv of stride k -> BN -> ReLU, 1x1 conv -> BN -> ReLU, bringing
 * the map to the deepest stage's size and width) feeds an auxiliary classifier (pooling + linear).
 * The deepest classifier (the network's own) teaches the shallow ones; shallow classifier i minimises
 *   (1 - alpha) * CE(q_i, y) + alpha * KL(q_C^T || q_i^T) + lambda * ||F_i - F_C||^2,
 * with q^T = softmax(z / T), F_i the bottleneck's output map, F_C the deepest stage's output map,
 * the deepest classifier's outputs held fixed; the deepest classifier is trained with CE (weight 1,
 * as in the authors' code). alpha = 0.3 and T = 3 are the authors' released self-distillation code's
 * (loss_coefficient, temperature; its soft term carries no T^2); lambda is the hint coefficient of the
 * authors' companion code (SCAN, NeurIPS 2019), 5e-7, here on the squared distance summed over the
 * batch and the map (SCAN applies it to pooled features, see below). The student is the deepest
 * classifier; each head's accuracy and the mean of all classifiers' logits (the authors' ensemble)
 * are reported.
 *
 * Checked against the authors' code: ArchipLab-LinfengZhang/pytorch-self-distillation-final
 * train.py @ 47ca93b: the deepest classifier's CE (weight 1), the shallow heads' (1 - alpha) CE +
 * alpha * soft CE at T = 3 without T^2 against the detached deepest logits (our KL differs from
 * that soft CE by a constant), alpha = 0.3 and T = 3 match. The hint differs: that code applies
 * torch.dist (an L2 norm, not squared) between a linear map of each pooled head feature and the
 * pooled deepest feature, weight 0.03, skipping the shallowest head; SCAN
 * (ArchipLab-LinfengZhang/pytorch-scalable-neural-networks sresnet.py, train.py @ aac136e) uses
 * 5e-7 on the squared distance of globally pooled features [B, C], summed over batch and channels,
 * whereas here 5e-7 multiplies the squared distance summed over the whole unpooled map, a larger
 * term (on an 8x8 map at least 64 times SCAN's for the same maps).
 */
import { crossEntropy, defineMethod, moduleSeed, ParamModule, softTargetKL, stopGradient, type LossTerms } from '@kdbench/core';
import { tf } from '@kdbench/engine';
import { layers, viewModel, type FeatureShape, type ForwardResult } from '@kdbench/models';

/** The bottleneck + classifier after each shallow stage. */
export class SelfDistillationHeads extends ParamModule {
  private readonly heads: { convs: layers.Conv2d[]; bns: layers.BatchNorm[]; fc: layers.Linear }[] = [];

  constructor(seed: number, shallow: readonly FeatureShape[], deepest: FeatureShape, numClasses: number) {
    super(seed);
    const mid = Math.max(1, Math.round(deepest.channels / 4));
    shallow.forEach((s, i) => {
      const k = s.height / deepest.height;
      if (!Number.isInteger(k) || k < 1 || s.width / deepest.width !== k) {
        throw new Error(`byot: stage ${s.name} (${s.height}x${s.width}) does not reduce to the deepest stage's ${deepest.height}x${deepest.width} by an integer stride`);
      }
      const scope = this.scope.child(`head${i + 1}`);
      const specs = [
        { inChannels: s.channels, outChannels: mid, kernelSize: 1 },
        { inChannels: mid, outChannels: mid, kernelSize: k, stride: k },
        { inChannels: mid, outChannels: deepest.channels, kernelSize: 1 },
      ];
      let size = { h: s.height, w: s.width };
      const convs = specs.map((spec, j) => {
        const conv = new layers.Conv2d(scope.child(`conv${j + 1}`), spec, size);
        size = conv.outSize;
        return conv;
      });
      const bns = specs.map((spec, j) => new layers.BatchNorm(scope.child(`bn${j + 1}`), spec.outChannels));
      this.heads.push({ convs, bns, fc: new layers.Linear(scope.child('fc'), deepest.channels, numClasses) });
    });
  }

  /** Each head's bottleneck map F_i and logits, from the shallow stages' outputs. */
  apply(inputs: readonly tf.Tensor4D[], training: boolean): { maps: tf.Tensor4D[]; logits: tf.Tensor2D[] } {
    const maps = this.heads.map(({ convs, bns }, i) => convs.reduce((h, conv, j) => tf.relu(bns[j]!.apply(conv.apply(h), training)), inputs[i]!));
    return { maps, logits: maps.map((m, i) => this.heads[i]!.fc.apply(layers.globalAvgPool(m))) };
  }

  /** Batch-norm running statistics (checkpointed as buffers). */
  /** The heads' batch-norm statistics: checkpointed, never optimised. */
  buffers(): Record<string, tf.Variable> {
    return Object.fromEntries(this.store.entries.filter((e) => !e.trainable).map((e) => [`byot/${e.name}`, e.variable]));
  }
}

/** KL(softmax(teacher/T) || softmax(student/T)) without the T^2 factor (the paper's soft term). */
export function softKL(student: tf.Tensor2D, teacher: tf.Tensor2D, T: number): tf.Scalar {
  return tf.tidy(() => tf.div(softTargetKL(student, teacher, T), T * T) as tf.Scalar);
}

export const byot = defineMethod({
  id: 'byot',
  title: 'Be your own teacher: auxiliary heads distilled from the deepest',
  paper: {
    authors: 'L. Zhang, J. Song, A. Gao, J. Chen, C. Bao, K. Ma',
    title: 'Be Your Own Teacher: Improve the Performance of Convolutional Neural Networks via Self Distillation',
    venue: 'ICCV',
    year: 2019,
    url: 'https://arxiv.org/abs/1905.08094',
  },
  family: 'self',
  knowledge: 'response',
  scheme: 'self',
  teacher: 'none',
  defaults: { alpha: 0.3, T: 3, lambda: 5e-7 },
  hyperDocs: {
    alpha: 'weight of the KL to the deepest classifier (1 - alpha on the shallow heads\' CE); 0.3 in the authors\' code',
    T: 'softmax temperature of the shallow-to-deepest KL (3 in the authors\' code)',
    lambda: 'weight of the feature hint ||F_i - F_C||^2, summed over batch and map (5e-7, the authors\' SCAN code)',
  },
  deviations:
    'The paper leaves the hint weight lambda unspecified; we use the coefficient of the same authors\' SCAN code. '
    + 'Heads follow the paper\'s bottleneck description with a quarter of the deepest width inside; the released code later replaced them with attention heads.',
  create: (ctx) => {
    const { hp } = ctx;
    const stages = ctx.studentShapes.filter((s) => s.name.startsWith('stage'));
    if (stages.length < 2) throw new Error(`byot: the student needs at least two stages, got ${stages.length}`);
    const shallow = stages.slice(0, -1);
    const module = new SelfDistillationHeads(moduleSeed(ctx.rng, 'byot'), shallow, stages.at(-1)!, ctx.numClasses);
    // features: [stem, stage1, ..., stageN]; heads sit on stage1..stage(N-1)
    const heads = (out: ForwardResult, training: boolean) => module.apply(out.features.slice(1, -1).map((f) => f.post), training);
    const view = (id: string, pick: (out: ForwardResult, h: ReturnType<typeof heads>) => tf.Tensor2D) =>
      viewModel(id, ctx.student, (x, opts) => {
        const out = ctx.student.forward(x, opts);
        return { ...out, logits: pick(out, heads(out, opts.training)) };
      });
    return {
      parts: {
        byot: module,
        views: {
          metrics: (evaluate) => ({
            ...Object.fromEntries(shallow.map((_, i) => [`head${i + 1}`, evaluate(view(`byot-head${i + 1}`, (_o, h) => h.logits[i]!)).top1])),
            ensemble: evaluate(view('byot-ensemble', (o, h) => tf.div(tf.addN([o.logits, ...h.logits]), h.logits.length + 1) as tf.Tensor2D)).top1,
          }),
        },
      },
      losses: (io) => {
        const deepest = io.student;
        const { maps, logits } = heads(deepest, true);
        const teacher = stopGradient(deepest.logits);
        const hint = stopGradient(deepest.features.at(-1)!.post);
        const terms: LossTerms = { ce: crossEntropy(deepest.logits, io.labels) };
        logits.forEach((z, i) => {
          terms[`head${i + 1}/ce`] = tf.mul(crossEntropy(z, io.labels), 1 - hp.alpha);
          terms[`head${i + 1}/kl`] = tf.mul(softKL(z, teacher, hp.T), hp.alpha);
          terms[`head${i + 1}/hint`] = tf.mul(tf.sum(tf.squaredDifference(maps[i]!, hint)), hp.lambda);
        });
        return terms;
      },
    };
  },
});
