/**
 * Graph distillation over modalities: Z. Luo, J.-T. Hsieh, L. Jiang, J. C. Niebles, L. Fei-Fei,
 * "Graph Distillation for Action Detection with Privileged Modalities", ECCV 2018 (arXiv:1712.00108,
 * https://arxiv.org/abs/1712.00108). Authors' code: github.com/google/graph_distillation @
 * 1a7ce5125098e7df869f08e15e2d6d8bb3189382 (nets/get_distillation_kernel.py, utils/misc.py
 * `distance_metric`, classification/model.py `GraphDistillation`, classification/run.py).
 *
 * Every modality is a vertex with its own network. The networks of the source (privileged)
 * modalities are trained alone first; the target modality's network (the run's student, which sees
 * only the target modality, in training and evaluation) learns from labels and from the sources,
 * each edge j -> k weighted per example by a small learned kernel:
 *   z^m = [W_logit l^m ; W_repr r^m]   (l logits, r the pooled representation; W shared by all modalities),
 *   e_{j->k}(x) = softmax_j( alpha * W_edge [z^k ; z^j] ),   prior pi = uniform over the sources,
 *   L_reg   = gdReg * sum_j (mean_b e_{j->k} - pi_j)^2,
 *   L_logit = wLogit * sum_j mean_b (e_{j->k} + pi_j) d(l^k, l^j),   L_repr = wRepr * sum_j mean_b (e_{j->k} + pi_j) d(r^k, r^j),
 *   loss = CE(l^k, y) + L_reg + L_logit + L_repr,   d(s, t) = 1 - cos(s, t) with t detached (metric cosine).
 * The kernel is trained with the target network (one optimiser), its gradient reaching the target too.
 * Vertices here are the image modalities of packages/data/src/modalities.ts. The RGB source is the
 * run's teacher (trained alone on RGB in the teacher store, as the code's single-stream training);
 * every other source is a network of the teacher's architecture trained alone on its modality in a
 * stage of this run before the main stage (`source-<modality>`), then frozen.
 * Defaults (classification/run.py and get_distillation_kernel): metric cosine, w_losses [10, 1],
 * gd_size 32, gd_reg 10, alpha 1/8, modality weights all 1 (uniform prior).
 */
import {
  ConfigError, Dense, ModalityModel, crossEntropy, defineMethod, embeddingDim, moduleSeed, normalizationFor, stopGradient, type Part,
} from '@kdbench/core';
import { isModality, MODALITIES, type Modality } from '@kdbench/data';
import { tf } from '@kdbench/engine';
import type { ForwardResult, Model } from '@kdbench/models';

export const METRICS = ['cosine', 'l2', 'l1'] as const;
export type Metric = (typeof METRICS)[number];

/** d(student, source) per row, the source held constant (utils/misc.py `distance_metric`). */
export function imitationDistance(student: tf.Tensor2D, source: tf.Tensor2D, metric: Metric): tf.Tensor1D {
  return tf.tidy(() => {
    const t = stopGradient(source);
    switch (metric) {
      case 'cosine': {
        const dot = tf.sum(tf.mul(student, t), 1);
        const norms = tf.mul(tf.norm(student, 'euclidean', 1), tf.norm(t, 'euclidean', 1));
        return tf.sub(1, tf.div(dot, tf.maximum(norms, 1e-8))) as tf.Tensor1D;
      }
      case 'l2':
        return tf.sum(tf.square(tf.sub(student, t)), 1) as tf.Tensor1D;
      case 'l1':
        return tf.sum(tf.abs(tf.sub(student, t)), 1) as tf.Tensor1D;
    }
  });
}

/** The distillation kernel: per-example edge weights e_{j->k} from the target's and each source's logits and representations. */
export class DistillationKernel implements Part {
  readonly logit: Dense;
  readonly repr: Dense;
  readonly edge: Dense;

  constructor(classes: number, hidden: number, readonly size: number, readonly alpha: number, seed: (label: string) => number) {
    const torch = { init: { kind: 'torch_default' }, bias: 'torch_default' } as const;
    this.logit = new Dense(classes, size, seed('logit'), torch);
    this.repr = new Dense(hidden, size, seed('repr'), torch);
    this.edge = new Dense(4 * size, 1, seed('edge'), torch);
  }

  private z(out: { logits: tf.Tensor2D; embedding: tf.Tensor2D }): tf.Tensor2D {
    return tf.concat([this.logit.apply(out.logits), this.repr.apply(out.embedding)], 1) as tf.Tensor2D;
  }

  /** Edge weights [B, J]: a softmax over the sources of alpha * W_edge [z^k ; z^j]. */
  edges(target: ForwardResult, sources: readonly ForwardResult[]): tf.Tensor2D {
    return tf.tidy(() => {
      const zk = this.z(target);
      const scores = sources.map((s) => this.edge.apply(tf.concat([zk, this.z(s)], 1) as tf.Tensor2D));
      return tf.softmax(tf.mul(tf.concat(scores, 1), this.alpha)) as tf.Tensor2D;
    });
  }

  trainableVariables(): tf.Variable[] {
    return [this.logit, this.repr, this.edge].flatMap((m) => m.trainableVariables());
  }

  dispose(): void {
    [this.logit, this.repr, this.edge].forEach((m) => m.dispose());
  }
}

export interface GraphDistillationWeights {
  readonly wLogit: number;
  readonly wRepr: number;
  readonly gdReg: number;
  readonly metric: Metric;
}

/** L_reg, L_logit and L_repr for edge weights [B, J], the target's pass and the sources' (in edge order). */
export function graphDistillationLosses(
  edges: tf.Tensor2D, target: ForwardResult, sources: readonly ForwardResult[], w: GraphDistillationWeights,
): { reg: tf.Scalar; logit: tf.Scalar; repr: tf.Scalar } {
  return tf.tidy(() => {
    const j = sources.length;
    const prior = 1 / j;
    const reg = tf.mul(tf.sum(tf.square(tf.sub(tf.mean(edges, 0), prior))), w.gdReg) as tf.Scalar;
    const weights = tf.unstack(tf.add(edges, prior), 1) as tf.Tensor1D[];
    const imitation = (pick: (o: ForwardResult) => tf.Tensor2D) =>
      tf.addN(sources.map((s, i) => tf.mean(tf.mul(weights[i]!, imitationDistance(pick(target), pick(s), w.metric)))));
    return {
      reg,
      logit: tf.mul(imitation((o) => o.logits), w.wLogit) as tf.Scalar,
      repr: tf.mul(imitation((o) => o.embedding), w.wRepr) as tf.Scalar,
    };
  });
}

/** Target and source modalities from the hyperparameters ('' sources: every modality but the target). */
export function modalitiesOf(target: string, sources: string): { target: Modality; sources: Modality[] } {
  if (!isModality(target) || target === 'rgb') {
    throw new ConfigError(`method 'graphdistill': target must be one of ${MODALITIES.filter((m) => m !== 'rgb').join(', ')}, got '${target}'`);
  }
  const list = sources.trim() ? sources.trim().split(/\s+/) : MODALITIES.filter((m) => m !== target);
  for (const m of list) {
    if (!isModality(m)) throw new ConfigError(`method 'graphdistill': sources entry '${m}' is not a modality (${MODALITIES.join(', ')})`);
    if (m === target) throw new ConfigError(`method 'graphdistill': sources lists the target modality '${m}'`);
  }
  if (new Set(list).size !== list.length) throw new ConfigError(`method 'graphdistill': sources lists a modality twice: '${sources}'`);
  return { target, sources: list as Modality[] };
}

export const graphdistill = defineMethod({
  id: 'graphdistill',
  title: 'Graph distillation over modalities (per-example edge weights)',
  paper: {
    authors: 'Z. Luo, J.-T. Hsieh, L. Jiang, J. C. Niebles, L. Fei-Fei',
    title: 'Graph Distillation for Action Detection with Privileged Modalities',
    venue: 'ECCV',
    year: 2018,
    url: 'https://arxiv.org/abs/1712.00108',
  },
  family: 'graph',
  knowledge: 'feature',
  scheme: 'offline',
  teacher: 'required',
  defaults: { target: 'gray', sources: '', sourceEpochs: 0, wLogit: 10, wRepr: 1, gdSize: 32, gdReg: 10, alpha: 0.125, metric: 'cosine' as string },
  hyperChoices: { target: MODALITIES.filter((m) => m !== 'rgb'), metric: [...METRICS] },
  hyperDocs: {
    target: 'the modality the student sees in training and evaluation (the vertex being trained)',
    sources: "the privileged source modalities, separated by spaces ('': every other modality); rgb is the run's teacher, the others are trained in stages",
    sourceEpochs: "epochs of each source network's training stage (0: the main stage's epochs)",
    wLogit: 'weight of the logit imitation (the code: 10)',
    wRepr: 'weight of the representation imitation (the code: 1)',
    gdSize: 'width of the kernel\'s logit and representation projections',
    gdReg: 'weight of the regulariser pulling the mean edge weights to the prior',
    alpha: 'scale of the edge scores before the softmax over sources',
    metric: 'imitation distance: cosine (default), l2 or l1',
  },
  deviations:
    'Vertices are CIFAR image modalities (gray, low8, low16, edge, rgb) in place of the paper\'s sensor modalities. The RGB source ' +
    'is the run\'s teacher; the other sources have the teacher\'s architecture and are trained in stages of each run for the main ' +
    'stage\'s epochs with the protocol\'s SGD (the code: 200 epochs at lr 1e-2 per stream), where the teacher store trains the ' +
    'RGB teacher for the protocol\'s teacher epochs. Sources run in evaluation mode while the target trains (the code leaves every ' +
    'stream in training mode, moving their batch-norm statistics). The target and kernel use the protocol\'s schedule (the code: ' +
    'lr 1e-2, 200 epochs).',
  create: (ctx) => {
    const { hp, rng } = ctx;
    const { target, sources } = modalitiesOf(hp.target, hp.sources);
    if (!(METRICS as readonly string[]).includes(hp.metric)) throw new ConfigError(`method 'graphdistill': metric must be one of ${METRICS.join(', ')}, got '${hp.metric}'`);
    if (!(Number.isInteger(hp.sourceEpochs) && hp.sourceEpochs >= 0)) throw new ConfigError(`method 'graphdistill': sourceEpochs must be an integer >= 0, got ${hp.sourceEpochs}`);
    if (!(Number.isInteger(hp.gdSize) && hp.gdSize >= 1)) throw new ConfigError(`method 'graphdistill': gdSize must be a positive integer, got ${hp.gdSize}`);
    const hidden = embeddingDim(ctx.studentShapes);
    const teacherHidden = embeddingDim(ctx.teacherShapes);
    if (hidden !== teacherHidden) {
      throw new ConfigError(
        `method 'graphdistill': the student's representation (${hidden}) and the sources' (teacher architecture, ${teacherHidden}) ` +
          'must have the same width: the kernel projects every modality with one shared layer',
      );
    }
    const norm = normalizationFor('graphdistill', ctx.dataset);
    const student = new ModalityModel(ctx.student, target, norm);
    const trained = sources.filter((m) => m !== 'rgb').map((m) => {
      const net = ctx.createNetwork(`source-${m}`, { model: ctx.teacher.id });
      return { modality: m, net, view: new ModalityModel(net, m, norm) };
    });
    const views: Record<string, Model> = Object.fromEntries(trained.map((t) => [t.modality, t.view]));
    const kernel = new DistillationKernel(ctx.numClasses, hidden, hp.gdSize, hp.alpha, (l) => moduleSeed(rng, `graphdistill.${l}`));
    const metric = hp.metric as Metric;
    // the sources are frozen: their outputs enter the kernel and the imitation as constants
    const sourceOutputs = (io: { x: tf.Tensor4D; teacher?: ForwardResult }, teacherOut: () => ForwardResult) =>
      sources.map((m) => {
        const o = m === 'rgb' ? teacherOut() : views[m]!.forward(io.x, { training: false });
        return { ...o, logits: stopGradient(o.logits), embedding: stopGradient(o.embedding) };
      });
    return {
      procedure: {
        student,
        networks: Object.fromEntries(trained.map((t) => [`source-${t.modality}`, { model: t.net, trainInMain: false }])),
        stages: trained.map((t) => ({
          name: `source-${t.modality}`,
          epochs: hp.sourceEpochs || ctx.epochs,
          schedule: true,
          evaluate: t.view,
          variables: () => t.net.trainableVariables(),
          losses: (io) => ({ ce: crossEntropy(t.view.forward(io.x, { training: true }).logits, io.labels) }),
        })),
      },
      parts: {
        kernel,
        modalities: {
          metrics: (evaluate) => {
            const out: Record<string, number> = {};
            for (const m of sources) out[`source_${m}`] = evaluate(m === 'rgb' ? ctx.teacher : views[m]!).top1;
            // the learned modality weights: mean edge weight of each source over the evaluation split
            const sums = new Float64Array(sources.length);
            let rows = 0;
            evaluate(student, {
              classify: (x) => tf.tidy(() => {
                const t = student.forward(x, { training: false });
                const e = kernel.edges(t, sourceOutputs({ x }, () => ctx.teacher.forward(x, { training: false }))).arraySync();
                for (const row of e) row.forEach((v, j) => { sums[j] += v; });
                rows += e.length;
                return t.logits;
              }),
            });
            sources.forEach((m, j) => { out[`edge_${m}`] = rows ? sums[j]! / rows : 0; });
            return out;
          },
        },
      },
      losses: (io) => {
        const srcs = sourceOutputs(io, () => io.teacher);
        const edges = kernel.edges(io.student, srcs);
        const l = graphDistillationLosses(edges, io.student, srcs, { wLogit: hp.wLogit, wRepr: hp.wRepr, gdReg: hp.gdReg, metric });
        return { ce: crossEntropy(io.student.logits, io.labels), gdReg: l.reg, gdLogit: l.logit, gdRepr: l.repr };
      },
    };
  },
});
