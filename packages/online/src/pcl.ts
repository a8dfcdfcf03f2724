/**
 * PCL: G. Wu, S. Gong, "Peer Collaborative Learning for Online Knowledge Distillation", AAAI 2021
 * (arXiv:2006.04147, https://arxiv.org/abs/2006.04147).
 *
 * One network with shared low-level layers and m branches ("peers") of its last stage. Each peer
 * sees its own random augmentation x_i of the batch (the trunk runs once per view). The peers' pooled
 * features, concatenated, feed an extra classifier: the peer ensemble teacher z_e. A temporal mean
 * (exponential moving average) of the whole network gives the peer mean teachers z~_j (each mean
 * branch j on its view x_j, batch norms in training mode, no gradient). Loss, T = 3:
 *   L = CE(z_e, y) + sum_i [ CE(z_i, y) + w(e) KD(z_i <- sg z_e) + w(e) 1/(m-1) sum_{j != i} KD(z_i <- z~_j) ],
 *   KD(a <- b) = T^2 KL(softmax(b/T) || softmax(a/T)) (batch mean),
 * w(e) = exp(-5 (1 - e/R)^2) for e < R (80 of 300 epochs), then 1. The mean network is updated after
 * every step with theta' <- a theta' + (1 - a) theta, a = min(1 - 1/(t + 1), 0.999), t the step count.
 * The deployed model is the first peer's temporal mean (what the paper reports, per the reproduction's README).
 *
 * No code by the authors was found. Everything beyond the abstract comes from an unofficial
 * reproduction, shaoeric/Peer-Collaborative-Learning-for-Online-Knowledge-Distillation @ 6afb473
 * (src/models/resnet.py: trunk = stem + stages 1-2, branch = copy of stage 3 + pooling + classifier,
 * ensemble classifier on the concatenated pooled features; src/losses/*.py; src/utils/ema.py;
 * src/trainer.py; configs: T = 3, weights 1, decay 0.999, 300 epochs), whose README copies the
 * paper's overview figure and result table. That reproduction computes the ramp-up as
 * exp(-5 (1 - e)^2) (its lambd = 1 is used as the ramp length), which switches distillation off for
 * most of the first 80 epochs; the intended mean-teacher ramp over 80 epochs is used here.
 *
 * Here the student is the trunk plus the first peer's branch (the student network itself: peer 0); the other branches and
 * the ensemble classifier are this method's module. The temporal mean of the student is a network
 * (`mean`, scored as the student: `procedure.deployed`), the temporal mean of the module a buffer-only
 * copy. Reported besides: every raw peer (`peer0` = the trained student), the other peers' mean
 * models (`mean1`, ...) and the raw ensemble classifier (`ensemble`).
 */
import {
  ConfigError, crossEntropy, defineMethod, moduleSeed, MovingAverage, pairByName, ParamModule, sameRows, softTargetKL, stopGradient,
  type LossTerms,
} from '@kdbench/core';
import { tf } from '@kdbench/engine';
import { layers, viewModel, type ForwardResult, type HeadOutput, type LastStageCopy, type Model, type NamedVariable } from '@kdbench/models';
import { lastStageCopier, sigmoidRampup } from './one.js';

/** Peers 1..m-1 (copies of the student's last stage + classifier) and the ensemble classifier on all m peers' pooled features. */
export class PeerBranches extends ParamModule {
  private readonly branches: LastStageCopy[] = [];
  private readonly ensembleFc: layers.Linear;

  /** `embeddingDim`: the width of the student's pooled feature, which every peer has. */
  constructor(seed: number, student: Model, embeddingDim: number, readonly count: number, numClasses: number) {
    super(seed);
    const copy = lastStageCopier('pcl', student);
    for (let b = 1; b < count; b++) this.branches.push(copy(this.scope.child(`branch${b}`), numClasses));
    this.ensembleFc = new layers.Linear(this.scope.child('ensemble'), count * embeddingDim, numClasses);
  }

  /** Branch b (1..m-1) on the trunk's output `h`: pooled feature and logits. */
  branch(b: number, h: tf.Tensor4D, training: boolean): HeadOutput {
    return this.branches[b - 1]!.apply(h, training);
  }

  /** The ensemble classifier on the m peers' pooled features (peer 0 first). */
  ensemble(embeddings: readonly tf.Tensor2D[]): tf.Tensor2D {
    return this.ensembleFc.apply(tf.concat(embeddings as tf.Tensor2D[], 1));
  }

  /** Every variable by name (what the temporal mean pairs by). */
  namedVariables(): NamedVariable[] {
    return [...this.store.entries];
  }

  /** Batch-norm statistics under `prefix`: checkpointed, never optimised. */
  statistics(prefix: string): Record<string, tf.Variable> {
    return Object.fromEntries(this.store.entries.filter((e) => !e.trainable).map((e) => [`${prefix}/${e.name}`, e.variable]));
  }

  buffers(): Record<string, tf.Variable> {
    return this.statistics('pcl');
  }
}

/** The peers' logits (peer 0 = the network's own) and pooled features, each peer on its own view's forward pass. */
export function peerOutputs(views: readonly ForwardResult[], branches: PeerBranches, training: boolean): { logits: tf.Tensor2D[]; embeddings: tf.Tensor2D[] } {
  const outs = views.map((v, i) => (i === 0 ? { embedding: v.embedding, logits: v.logits } : branches.branch(i, v.features.at(-2)!.post, training)));
  return { logits: outs.map((o) => o.logits), embeddings: outs.map((o) => o.embedding) };
}

/** Peer i's peer-mean term: the mean over the other peers j of KD_T(z_i <- z~_j), the mean logits held fixed. */
export function peerMeanKD(logits: tf.Tensor2D, meanLogits: readonly tf.Tensor2D[], i: number, T: number): tf.Scalar {
  return tf.tidy(() => {
    const others = meanLogits.filter((_, j) => j !== i).map((z) => softTargetKL(logits, stopGradient(z), T));
    return tf.div(tf.addN(others), others.length) as tf.Scalar;
  });
}

export const pcl = defineMethod({
  id: 'pcl',
  title: 'Peer collaborative learning (peer ensemble and peer mean teachers)',
  paper: {
    authors: 'G. Wu, S. Gong',
    title: 'Peer Collaborative Learning for Online Knowledge Distillation',
    venue: 'AAAI',
    year: 2021,
    url: 'https://arxiv.org/abs/2006.04147',
  },
  family: 'online',
  knowledge: 'response',
  scheme: 'online',
  teacher: 'none',
  defaults: { branches: 3, T: 3, decay: 0.999, rampup: 80 / 300 },
  hyperDocs: {
    branches: 'number of peers m, each on its own augmentation of the batch (the student is peer 0); 3 in the paper',
    T: 'temperature of the peer-ensemble and peer-mean KD terms (3 in the reproduction\'s configs)',
    decay: 'largest decay of the temporal mean, min(1 - 1/(t+1), decay) at step t (0.999)',
    rampup: 'fraction of the epochs over which the KD weight ramps up (80 of 300 epochs)',
  },
  deviations:
    'Grounded in an unofficial reproduction (the paper text beyond the abstract and any authors\' code were not found); its ramp-up bug is fixed (see the doc comment). '
    + 'The trunk of each extra view is run as the whole student network (its last stage\'s output unused), so the student\'s and the mean network\'s last-stage batch-norm statistics are updated by all m views, not by view 1 alone. '
    + 'Branches are fresh copies of the student\'s last stage and classifier. For ResNets this is the reproduction\'s split; the paper also splits VGG-16 and DenseNet-40-12, where it is not readable which layers the peers hold: kdbench copies the last stage as for ResNets (VGG block 4; DenseNet\'s second transition, third dense block and final BN). Zoo ResNet-110 is the basic-block network (the reproduction\'s ResNet-110 uses bottleneck blocks; which one the paper used is unverified). '
    + 'The temporal mean\'s decay is not scaled to the schedule: while 1 - 1/(t + 1) < 0.999, i.e. for the first 1,000 steps, the mean is the plain average of every step\'s weights so far, which is under 1% of the paper\'s 300 epochs but most of the quick protocol\'s 750 (CIFAR-10) to 1,500 (CIFAR-100) steps, so the deployed mean model lags the raw peers far more than in the paper (the row\'s details.extra has the raw peers: peer0 is the trained student). '
    + 'The peers\' classifiers start from independent draws (the reproduction copies one classifier into all peers); the protocol\'s SGD (Nesterov in the reproduction) and schedule instead of 300 epochs with lr x0.1 at 150/225.',
  smallHyper: { branches: 2 },
  create: (ctx) => {
    const { hp } = ctx;
    if (!Number.isInteger(hp.branches) || hp.branches < 2) throw new ConfigError(`pcl: branches must be an integer >= 2, got ${hp.branches}`);
    if (!(hp.T > 0)) throw new ConfigError(`pcl: T must be > 0, got ${hp.T}`);
    if (!(hp.decay >= 0 && hp.decay < 1)) throw new ConfigError(`pcl: decay must be in [0, 1), got ${hp.decay}`);
    if (!(hp.rampup >= 0 && hp.rampup <= 1)) throw new ConfigError(`pcl: rampup must be a fraction of the epochs in [0, 1], got ${hp.rampup}`);
    const embeddingDim = ctx.studentShapes.find((s) => s.name === 'embedding')!.channels;
    const build = (label: string) => new PeerBranches(moduleSeed(ctx.rng, label), ctx.student, embeddingDim, hp.branches, ctx.numClasses);
    const branches = build('pcl');
    const meanBranches = build('pcl-mean');
    const mean = ctx.createNetwork('mean');
    const temporalMean = new MovingAverage('pcl-mean', [
      ...pairByName(ctx.student.namedVariables(), mean.namedVariables()),
      ...pairByName(branches.namedVariables(), meanBranches.namedVariables()),
    ], hp.decay);
    const rampEpochs = Math.round(hp.rampup * ctx.epochs);
    const extraViews = sameRows(ctx.trainIds, hp.branches - 1);

    /** Peer b of (net, branches) on x, as a Model for evaluation; the ensemble of all peers when b is 'ensemble'. */
    const view = (id: string, net: Model, mod: PeerBranches, b: number | 'ensemble') => viewModel(id, net, (x, opts) => {
      const out = net.forward(x, opts);
      const peers = peerOutputs(Array.from({ length: hp.branches }, () => out), mod, opts.training);
      return { ...out, logits: b === 'ensemble' ? mod.ensemble(peers.embeddings) : peers.logits[b]! };
    });
    const others = Array.from({ length: hp.branches - 1 }, (_, i) => i + 1);
    return {
      procedure: { companions: extraViews, networks: { mean: { model: mean, trainInMain: false } }, deployed: mean },
      parts: {
        pcl: branches,
        temporalMean,
        meanBranches: { buffers: () => Object.fromEntries(meanBranches.namedVariables().map((nv) => [`pcl-mean/${nv.name}`, nv.variable])), dispose: () => meanBranches.dispose() },
        views: {
          metrics: (evaluate) => ({
            peer0: evaluate(ctx.student).top1,
            ...Object.fromEntries(others.map((b) => [`peer${b}`, evaluate(view(`pcl-peer${b}`, ctx.student, branches, b)).top1])),
            ...Object.fromEntries(others.map((b) => [`mean${b}`, evaluate(view(`pcl-mean${b}`, mean, meanBranches, b)).top1])),
            ensemble: evaluate(view('pcl-ensemble', ctx.student, branches, 'ensemble')).top1,
          }),
        },
      },
      losses: (io) => {
        const companions = io.companions ?? [];
        if (companions.length !== hp.branches - 1) throw new Error(`pcl: ${hp.branches} peers need ${hp.branches - 1} extra views of the batch, got ${companions.length}`);
        const xs = [io.x, ...companions.map((c) => c.x)];
        const trunks = xs.map((x, i) => (i === 0 ? io.student : ctx.student.forward(x, { training: true })));
        const { logits, embeddings } = peerOutputs(trunks, branches, true);
        const ensemble = branches.ensemble(embeddings);
        const meanLogits = peerOutputs(xs.map((x) => mean.forward(x, { training: true })), meanBranches, true).logits.map((z) => stopGradient(z));
        const teacher = stopGradient(ensemble);
        const w = sigmoidRampup(io.epoch, rampEpochs);
        const terms: LossTerms = { ensemble: crossEntropy(ensemble, io.labels) };
        logits.forEach((z, i) => {
          const name = (t: string) => (i === 0 ? t : `peer${i}/${t}`);
          terms[name('ce')] = crossEntropy(z, io.labels);
          terms[name('pe')] = tf.mul(softTargetKL(z, teacher, hp.T), w);
          terms[name('pm')] = tf.mul(peerMeanKD(z, meanLogits, i, hp.T), w);
        });
        return terms;
      },
    };
  },
});
