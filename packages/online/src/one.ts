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
 * reported besides (`ensemble`, `branch1`, ...). Branches are fresh copies of the student's last
 * stage and classifier (Model.copyLastStage: CIFAR ResNets, VGGs, DenseNet).
 *
 * Checked against the authors' code: Lan1991Xu/ONE_NeurIPS2018 cifar_one.py, loss/kl_loss.py,
 * utils/ramps.py, models/cifar/resnet.py (ONE_ResNet) and scripts/ONE_ResNet32.sh @ 54afde3: the CE
 * of every branch and of the ensemble, the T = 3 KL with T^2 and batch mean against the detached
 * ensemble, the per-epoch sigmoid ramp-up over 80 of 300 epochs, and the gate (pooled shared
 * feature, linear, BN, ReLU, softmax) match. The reference adds 1e-7 to the ensemble's
 * probabilities, which we omit.
 */
import { ConfigError, crossEntropy, defineMethod, moduleSeed, ParamModule, softTargetKL, stopGradient, type LossTerms } from '@kdbench/core';
import { tf } from '@kdbench/engine';
import { layers, viewModel, type FeatureShape, type ForwardResult, type LastStageCopy, type Model } from '@kdbench/models';

/** Sigmoid-shaped ramp-up of Laine & Aila (arXiv:1610.02242): exp(-5 (1 - t/R)^2) for t < R, then 1. */
export function sigmoidRampup(epoch: number, rampup: number): number {
  if (rampup <= 0) return 1;
  const phase = 1 - Math.min(Math.max(epoch, 0), rampup) / rampup;
  return Math.exp(-5 * phase * phase);
}

/** The m-1 extra branches (copies of the student's last stage + classifier) and the gate. */
export class OneBranches extends ParamModule {
  private readonly branches: LastStageCopy[] = [];
  private readonly gateFc: layers.Linear;
  private readonly gateBn: layers.BatchNorm;

  /** `input`: the student's second-to-last feature, which the branches and the gate are fed. */
  constructor(seed: number, student: Model, input: FeatureShape, readonly count: number, numClasses: number) {
    super(seed);
    const copy = lastStageCopier('one', student);
    for (let b = 1; b < count; b++) this.branches.push(copy(this.scope.child(`branch${b}`), numClasses));
    this.gateFc = new layers.Linear(this.scope.child('gate').child('fc'), input.channels, count);
    this.gateBn = new layers.BatchNorm(this.scope.child('gate').child('bn'), count);
  }

  /** Logits of branches 1..m-1 and the gate weights [B, m], from the shared trunk's output. */
  apply(shared: tf.Tensor4D, training: boolean): { logits: tf.Tensor2D[]; gate: tf.Tensor2D } {
    const logits = this.branches.map((copy) => copy.apply(shared, training).logits);
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

/** The student's `copyLastStage`, or a usage error naming the method and the nets that have one. */
export function lastStageCopier(method: string, student: Model): NonNullable<Model['copyLastStage']> {
  if (!student.copyLastStage) {
    throw new ConfigError(`${method}: branches copy the student's last stage, which '${student.id}' cannot (CIFAR ResNets, VGGs and DenseNet can)`);
  }
  return student.copyLastStage.bind(student);
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
  deviations: 'The authors\' code builds branches for ResNets only; on a VGG or DenseNet student the branch point (the last stage: VGG block 4; DenseNet\'s second transition, third dense block and final BN) is kdbench\'s choice.',
  smallHyper: { branches: 2 },
  create: (ctx) => {
    const { hp } = ctx;
    if (!Number.isInteger(hp.branches) || hp.branches < 2) throw new ConfigError(`one: branches must be an integer >= 2, got ${hp.branches}`);
    const stages = ctx.studentShapes.filter((s) => s.name !== 'embedding');
    const module = new OneBranches(moduleSeed(ctx.rng, 'one'), ctx.student, stages.at(-2)!, hp.branches, ctx.numClasses);
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
