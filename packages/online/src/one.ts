/**
 * ONE: X. Lan, X. Zhu, S. Gong, "Knowledge Distillation by On-the-Fly Native Ensemble",
 * NeurIPS 2018 (arXiv:1806.04606, https://arxiv.org/abs/1806.04606).
 *
 * One network with shared low-level layers and m branches of its last stage; a gate (linear -> BN
 * -> ReLU -> softmax on the pooled shared feature) weighs the branches' logits into an ensemble
 * teacher z_e = sum_i g_i z_i, built on the fly in the same forward pass. Loss (authors' code):
 *   L = sum_i CE(z_i, y) + CE(z_e, y) + w(epoch) * T^2 * sum_i KL(softmax(z_e/T) || softmax(z_i/T)),
 * T = 3, the ensemble held fixed in the KL terms, w a sigmoid ramp-up exp(-5 (1 - e/R)^2) over the
 * first R epochs (80 of 300 in the authors' scripts, scaled here to the run's epochs).
 *
 * Here the student network is the shared trunk plus branch 0 (its own last stage and classifier);
 * branches 1..m-1 and the gate are this method's module, fed the student's second-to-last stage
 * output. The deployed student is a single branch, which is what the paper's tables report for ONE
 * (the gated ensemble is its "ONE-E"); the ensemble's and the other branches' accuracies are
 * reported besides (`ensemble`, `branch1`, ...). Branches are copies of a CIFAR ResNet's last stage,
 * so the student must be a zoo ResNet.
 *
 * Checked against the authors' code: Lan1991Xu/ONE_NeurIPS2018 cifar_one.py, loss/kl_loss.py,
 * utils/ramps.py, models/cifar/resnet.py (ONE_ResNet) and scripts/ONE_ResNet32.sh @ 54afde3: the CE
 * of every branch and of the ensemble, the T = 3 KL with T^2 and batch mean against the detached
 * ensemble, the per-epoch sigmoid ramp-up over 80 of 300 epochs, and the gate (pooled shared
 * feature, linear, BN, ReLU, softmax) match. The reference adds 1e-7 to the ensemble's
 * probabilities, which we omit.
 */
import { crossEntropy, defineMethod, moduleSeed, ParamModule, softTargetKL, stopGradient, type LossTerms } from '@kdbench/core';
import { tf } from '@kdbench/engine';
import { BasicBlock, layers, resnetBlocksPerStage, viewModel, type FeatureShape, type ForwardResult } from '@kdbench/models';

/** Sigmoid-shaped ramp-up of Laine & Aila (arXiv:1610.02242): exp(-5 (1 - t/R)^2) for t < R, then 1. */
export function sigmoidRampup(epoch: number, rampup: number): number {
  if (rampup <= 0) return 1;
  const phase = 1 - Math.min(Math.max(epoch, 0), rampup) / rampup;
  return Math.exp(-5 * phase * phase);
}

/** The m-1 extra branches (copies of the last ResNet stage + classifier) and the gate. */
export class OneBranches extends ParamModule {
  private readonly branches: { blocks: BasicBlock[]; fc: layers.Linear }[] = [];
  private readonly gateFc: layers.Linear;
  private readonly gateBn: layers.BatchNorm;

  constructor(seed: number, input: FeatureShape, last: FeatureShape, blocksPerStage: number, readonly count: number, numClasses: number) {
    super(seed);
    const stride = input.height / last.height;
    if (!Number.isInteger(stride) || stride < 1) throw new Error(`one: stage sizes ${input.height} -> ${last.height} are not a stride`);
    for (let b = 1; b < count; b++) {
      const scope = this.scope.child(`branch${b}`);
      let size = { h: input.height, w: input.width };
      const blocks = Array.from({ length: blocksPerStage }, (_, j) => {
        const block = new BasicBlock(scope.child('layer').child(j), j === 0 ? input.channels : last.channels, last.channels, j === 0 ? stride : 1, size);
        size = block.outSize;
        return block;
      });
      this.branches.push({ blocks, fc: new layers.Linear(scope.child('fc'), last.channels, numClasses) });
    }
    this.gateFc = new layers.Linear(this.scope.child('gate').child('fc'), input.channels, count);
    this.gateBn = new layers.BatchNorm(this.scope.child('gate').child('bn'), count);
  }

  /** Logits of branches 1..m-1 and the gate weights [B, m], from the shared trunk's output. */
  apply(shared: tf.Tensor4D, training: boolean): { logits: tf.Tensor2D[]; gate: tf.Tensor2D } {
    const logits = this.branches.map(({ blocks, fc }) => {
      let h = shared;
      for (const block of blocks) h = block.apply(h, training).out;
      return fc.apply(layers.globalAvgPool(h));
    });
    const g = this.gateFc.apply(layers.globalAvgPool(shared));
    const [b, m] = g.shape;
    const normed = tf.reshape(this.gateBn.apply(tf.reshape(g, [b, 1, 1, m]) as tf.Tensor4D, training), [b, m]);
    return { logits, gate: tf.softmax(tf.relu(normed)) as tf.Tensor2D };
  }

  /** Batch-norm running statistics (checkpointed as buffers). */
  /** The batch-norm statistics of the branches and the gate: checkpointed, never optimised. */
  buffers(): Record<string, tf.Variable> {
    return Object.fromEntries(this.store.entries.filter((e) => !e.trainable).map((e) => [`one/${e.name}`, e.variable]));
  }
}

/** The gated ensemble z_e = sum_i g_i z_i of the branches' logits (gate [B, m]). */
export function gatedEnsemble(branchLogits: readonly tf.Tensor2D[], gate: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const weights = tf.split(gate, branchLogits.length, 1);
    return tf.addN(branchLogits.map((z, i) => tf.mul(z, weights[i]!))) as tf.Tensor2D;
  });
}

export const one = defineMethod({
  id: 'one',
  title: 'On-the-fly native ensemble (gated branches)',
  paper: {
    authors: 'X. Lan, X. Zhu, S. Gong',
    title: 'Knowledge Distillation by On-the-Fly Native Ensemble',
    venue: 'NeurIPS',
    year: 2018,
    url: 'https://arxiv.org/abs/1806.04606',
  },
  family: 'online',
  knowledge: 'response',
  scheme: 'online',
  teacher: 'none',
  defaults: { branches: 3, T: 3, rampup: 80 / 300 },
  hyperDocs: {
    branches: 'number of branches m (the student is branch 0); 3 in the paper',
    T: 'temperature of the ensemble-to-branch KL (3 in the authors\' code)',
    rampup: 'fraction of the epochs over which the KL weight ramps up (80 of 300 epochs in the authors\' scripts)',
  },
  deviations: '',
  smallHyper: { branches: 2 },
  create: (ctx) => {
    const { hp } = ctx;
    const blocksPerStage = resnetBlocksPerStage(ctx.student.id);
    if (blocksPerStage === null) throw new Error(`one: branches copy a CIFAR ResNet's last stage; student '${ctx.student.id}' is not a zoo ResNet`);
    if (!Number.isInteger(hp.branches) || hp.branches < 2) throw new Error(`one: branches must be an integer >= 2, got ${hp.branches}`);
    const stages = ctx.studentShapes.filter((s) => s.name !== 'embedding');
    const input = stages.at(-2)!;
    const module = new OneBranches(moduleSeed(ctx.rng, 'one'), input, stages.at(-1)!, blocksPerStage, hp.branches, ctx.numClasses);
    const rampEpochs = Math.round(hp.rampup * ctx.epochs);
    const heads = (student: ForwardResult, training: boolean) => {
      const { logits, gate } = module.apply(student.features.at(-2)!.post, training);
      const all = [student.logits, ...logits];
      return { all, ensemble: gatedEnsemble(all, gate) };
    };
    const view = (id: string, pick: (h: ReturnType<typeof heads>) => tf.Tensor2D) =>
      viewModel(id, ctx.student, (x, opts) => {
        const out = ctx.student.forward(x, opts);
        return { ...out, logits: pick(heads(out, opts.training)) };
      });
    return {
      parts: {
        one: module,
        views: {
          metrics: (evaluate) => ({
            ensemble: evaluate(view('one-ensemble', (h) => h.ensemble)).top1,
            ...Object.fromEntries(Array.from({ length: hp.branches - 1 }, (_, i) => [`branch${i + 1}`, evaluate(view(`one-branch${i + 1}`, (h) => h.all[i + 1]!)).top1])),
          }),
        },
      },
      losses: (io) => {
        const { all, ensemble } = heads(io.student, true);
        const teacher = stopGradient(ensemble);
        const terms: LossTerms = {};
        all.forEach((z, i) => (terms[i === 0 ? 'ce' : `branch${i}/ce`] = crossEntropy(z, io.labels)));
        terms.ensemble = crossEntropy(ensemble, io.labels);
        const kl = tf.addN(all.map((z) => softTargetKL(z, teacher, hp.T)));
        terms.kl = tf.mul(kl, sigmoidRampup(io.epoch, rampEpochs)) as tf.Scalar;
        return terms;
      },
    };
  },
});
