/**
 * HKD: S. Zhou, Y. Wang, D. Chen, J. Chen, X. Wang, C. Wang, J. Bu, "Distilling Holistic Knowledge
 * with Graph Neural Networks", ICCV 2021 (arXiv:2108.05507, https://arxiv.org/abs/2108.05507).
 * Authors' code: github.com/wyc-ruiker/HKD @ 9434fd859c4fdee2707a0f32f265df95b4fbfabe
 * (distiller_zoo/GNN.py, train_student.py, helper/loops.py, dataset/cifar100.py, scripts/run_cifar_distill.sh).
 *
 * Individual knowledge is each sample's embedding; holistic knowledge is what a graph neural network
 * aggregates over the sample's neighbours in an instance graph of the batch. Both are transferred
 * with InfoNCE against two memory banks (M_s of student embeddings, M_t of teacher embeddings):
 *   e = Embed(f) (linear to 128, L2-normalised), for f the pooled penultimate vectors of each network;
 *   graph: each sample and its 7 nearest others by d_ij = 1 - cos(softmax(l_i), softmax(l_j)) of the
 *     network's detached logits (k = 8 with itself);
 *   g = norm(W [e ; mean of e over the neighbours] + b)   (TAGConv with one hop, one per network);
 *   NCE(a, p, M) = -log( exp(<p, a>/T) / (exp(<p, a>/T) + sum_n exp(<M[n], a>/T)) ), n: K records of other classes;
 *   L_ind = NCE(e_s, M_t[i], M_s) + NCE(e_t, M_s[i], M_t);
 *   L_hol = NCE(g_s, norm(0.75 M_t[i] + 0.25 g_t), M_s) + NCE(g_t, norm(0.75 M_s[i] + 0.25 g_s), M_t)
 *     (the smoothed positives held constant);
 *   loss = gamma * CE(s, y) + alpha * T_kd^2 KL(teacher || student) + beta * (L_ind + L_hol),
 * and after the step M_s[i] <- norm(0.9 M_s[i] + 0.1 e_s), M_t[i] <- norm(0.9 M_t[i] + 0.1 e_t). A batch
 * smaller than k uses L_ind alone and leaves the banks as they are (the code's early return).
 * Defaults (scripts/run_cifar_distill.sh "# HKD"): gamma = 1, alpha = 0, beta = 3 ("# HKD+KD": alpha = 1);
 * T = 0.07, bank momentum 0.9, smoothing 0.75, k = 8 (GNN.py); K = nce_k = 16384, feature width 128
 * (train_student.py); the KD temperature 4 (RepDistiller's DistillKL).
 */
import {
  ClassNegatives, ConfigError, ContrastMemory, Embed, MeanGraphConv, bankScores, crossEntropy, defineMethod, embeddingDim, knnIndices, knnMeanMatrix,
  l2NormalizeRows, moduleSeed, softTargetKL, softmaxCosineDistance, stopGradient, type Part,
} from '@kdbench/core';
import { tf, type Rng } from '@kdbench/engine';

/** Momentum of the bank update and weight of the bank in the smoothed holistic positive (GNN.py). */
const BANK_MOMENTUM = 0.9;
const SMOOTHING = 0.75;

/**
 * InfoNCE of anchors a [B, D]: the positive <p_b, a_b> against the bank rows `negatives` (K per row)
 * at temperature T, cross-entropy with the positive as the class, averaged over the batch.
 */
export function infoNce(anchor: tf.Tensor2D, positive: tf.Tensor2D, bank: tf.Variable, negatives: Int32Array, T: number): tf.Scalar {
  return tf.tidy(() => {
    const pos = tf.sum(tf.mul(anchor, positive), 1, true);
    const logits = tf.div(tf.concat([pos, bankScores(anchor, bank, negatives)], 1), T) as tf.Tensor2D;
    return tf.neg(tf.mean(tf.slice(tf.logSoftmax(logits), [0, 0], [-1, 1]))) as tf.Scalar;
  });
}

/** The holistic feature of every sample: norm(W [e ; neighbours' mean of e] + b) on the network's own graph. */
export function holisticFeatures(gnn: MeanGraphConv, e: tf.Tensor2D, logits: tf.Tensor2D, k: number): tf.Tensor2D {
  return tf.tidy(() => {
    const graph = knnIndices(softmaxCosineDistance(logits), k, { includeSelf: true });
    return l2NormalizeRows(gnn.apply(e, knnMeanMatrix(graph, e.shape[0])));
  });
}

/** The two banks, the negatives drawn per epoch, and the bank update deferred to afterStep. */
export class HolisticMemory implements Part {
  readonly memory: ContrastMemory;
  readonly negatives: ClassNegatives;
  /** Negatives per anchor: nceK capped at the smallest other-class pool. */
  readonly k: number;
  private epochRng: Rng;
  private pending: { rows: Int32Array; es: tf.Tensor2D; et: tf.Tensor2D } | null = null;

  constructor(trainIds: Int32Array, labels: Int32Array, dim: number, nceK: number, rng: Rng, private readonly sampler: Rng) {
    this.negatives = new ClassNegatives(labels);
    const pool = this.negatives.minPool();
    if (!(pool >= 1)) throw new Error('hkd: needs training records of at least two classes (negatives come from other classes)');
    this.k = Math.min(nceK, pool);
    this.memory = new ContrastMemory(trainIds, dim, rng);
    this.epochRng = sampler.fork(0);
  }

  onEpochStart(epoch: number): void {
    this.epochRng = this.sampler.fork(epoch);
  }

  buffers(): Record<string, tf.Variable> {
    return { memoryStudent: this.memory.student, memoryTeacher: this.memory.teacher };
  }

  /** K negatives per row, drawn without replacement from the other classes (row order of `rows`). */
  draw(rows: Int32Array): Int32Array {
    const out = new Int32Array(rows.length * this.k);
    rows.forEach((r, b) => this.negatives.draw(r, this.k, this.epochRng, out, b * this.k));
    return out;
  }

  /** The batch's embeddings move into the banks after the optimiser step. */
  defer(rows: Int32Array, es: tf.Tensor2D, et: tf.Tensor2D): void {
    this.drop();
    this.pending = { rows, es: tf.keep(es.clone()), et: tf.keep(et.clone()) };
  }

  afterStep(): void {
    if (!this.pending) return;
    this.memory.update(this.pending.rows, this.pending.es, this.pending.et, BANK_MOMENTUM);
    this.drop();
  }

  private drop(): void {
    if (this.pending) tf.dispose([this.pending.es, this.pending.et]);
    this.pending = null;
  }

  dispose(): void {
    this.drop();
    this.memory.dispose();
  }
}

export const hkd = defineMethod({
  id: 'hkd',
  title: 'Holistic knowledge distillation (GNN over a k-NN instance graph)',
  paper: {
    authors: 'S. Zhou, Y. Wang, D. Chen, J. Chen, X. Wang, C. Wang, J. Bu',
    title: 'Distilling Holistic Knowledge with Graph Neural Networks',
    venue: 'ICCV',
    year: 2021,
    url: 'https://arxiv.org/abs/2108.05507',
  },
  family: 'graph',
  knowledge: 'relation',
  scheme: 'offline',
  teacher: 'required',
  defaults: { gamma: 1, alpha: 0, beta: 3, T: 4, featDim: 128, k: 8, nceK: 16384, nceT: 0.07 },
  hyperDocs: {
    gamma: 'weight of the cross-entropy with labels',
    alpha: 'weight of the T^2-scaled KD term (0: HKD; 1: the paper\'s HKD+KD)',
    beta: 'weight of the individual and holistic InfoNCE terms',
    T: 'KD temperature (used when alpha > 0)',
    featDim: 'width of the embeddings, graph layers and memory banks',
    k: 'vertices aggregated per sample in the instance graph, itself included',
    nceK: 'negatives per anchor, drawn from records of other classes (capped at the smallest such pool)',
    nceT: 'InfoNCE temperature',
  },
  deviations:
    'The negatives are capped at the smallest other-class pool of the training split (the quick protocol has fewer than ' +
    '16384 records per pool), as kdbench\'s CRD does. The graph layer is written out as W [e ; mean of the neighbours] + b: ' +
    'DGL\'s symmetric normalisation of TAGConv equals that mean because every vertex has in-degree k.',
  create: (ctx) => {
    const { hp, rng } = ctx;
    if (!(Number.isInteger(hp.k) && hp.k >= 1)) throw new ConfigError(`hkd: k must be a positive integer, got ${hp.k}`);
    if (!(Number.isInteger(hp.featDim) && hp.featDim >= 1)) throw new ConfigError(`hkd: featDim must be a positive integer, got ${hp.featDim}`);
    if (!(Number.isInteger(hp.nceK) && hp.nceK >= 1)) throw new ConfigError(`hkd: nceK must be a positive integer, got ${hp.nceK}`);
    if (!(hp.nceT > 0)) throw new ConfigError(`hkd: nceT must be > 0, got ${hp.nceT}`);
    const embedS = new Embed(embeddingDim(ctx.studentShapes), hp.featDim, moduleSeed(rng, 'hkd.embedS'));
    const embedT = new Embed(embeddingDim(ctx.teacherShapes), hp.featDim, moduleSeed(rng, 'hkd.embedT'));
    const gnnS = new MeanGraphConv(hp.featDim, hp.featDim, moduleSeed(rng, 'hkd.gnnS'));
    const gnnT = new MeanGraphConv(hp.featDim, hp.featDim, moduleSeed(rng, 'hkd.gnnT'));
    const memory = new HolisticMemory(ctx.trainIds, ctx.trainLabels, hp.featDim, hp.nceK, rng.fork('hkd.memory'), rng.fork('hkd.sampler'));
    const { student: ms, teacher: mt } = memory.memory;
    return {
      parts: { embedS, embedT, gnnS, gnnT, memory },
      losses: (io) => {
        const rows = memory.memory.rowsOf(io.ids);
        const negatives = memory.draw(rows);
        const idx = tf.tensor1d(rows, 'int32');
        const es = embedS.apply(io.student.embedding);
        const et = embedT.apply(io.teacher.embedding);
        const bankS = tf.gather(ms, idx) as tf.Tensor2D;
        const bankT = tf.gather(mt, idx) as tf.Tensor2D;
        const individual = tf.add(infoNce(es, bankT, ms, negatives, hp.nceT), infoNce(et, bankS, mt, negatives, hp.nceT));
        let holistic: tf.Tensor = tf.scalar(0);
        if (rows.length >= hp.k) {
          const gs = holisticFeatures(gnnS, es, stopGradient(io.student.logits), hp.k);
          const gt = holisticFeatures(gnnT, et, stopGradient(io.teacher.logits), hp.k);
          const smooth = (bank: tf.Tensor2D, g: tf.Tensor2D) =>
            stopGradient(l2NormalizeRows(tf.add(tf.mul(bank, SMOOTHING), tf.mul(g, 1 - SMOOTHING))));
          holistic = tf.add(infoNce(gs, smooth(bankT, gt), ms, negatives, hp.nceT), infoNce(gt, smooth(bankS, gs), mt, negatives, hp.nceT));
          memory.defer(rows, es, et);
        }
        const terms: Record<string, tf.Scalar> = {
          ce: tf.mul(crossEntropy(io.student.logits, io.labels), hp.gamma),
          hkdIndividual: tf.mul(individual, hp.beta),
          hkdHolistic: tf.mul(holistic, hp.beta),
        };
        if (hp.alpha > 0) terms.kd = tf.mul(softTargetKL(io.student.logits, io.teacher.logits, hp.T), hp.alpha);
        return terms;
      },
    };
  },
});
