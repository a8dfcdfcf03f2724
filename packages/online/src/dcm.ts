/**
 * DCM: A. Yao, D. Sun, "Knowledge Transfer via Dense Cross-Layer Mutual-Distillation", ECCV 2020
 * (arXiv:2008.07816, https://arxiv.org/abs/2008.07816).
 *
 * Two networks are trained together from scratch. Each gets two auxiliary classifiers, after its
 * first and second stage, so that it has three classifiers (aux1, aux2, final); every classifier of
 * one network learns from every classifier of the other, in both directions:
 *   L = sum_{k in heads(A) u heads(B)} CE(z_k, y)
 *     + w * sum_{i in heads(A)} sum_{j in heads(B)} [ KL(sg p_j || p_i) + KL(sg p_i || p_j) ],  p = softmax(z)
 * (6 CE and 18 KL terms, no temperature, batch-mean KL, the target side held fixed; there are no
 * terms between the classifiers of one network). The auxiliary classifiers are discarded after
 * training. Source: the authors' code, sundw2014/DCM @ df2f5f6, wrn_mobi/main.py (the connection
 * map, one SGD over both networks), KL_divergence.py, resnet.py and mobilenet.py (the heads).
 *
 * The heads are deep branches built from the network's own blocks:
 * - WRN-d-k (n = (d-4)/6 blocks per stage, widths w1, w2, w3): aux1 takes stage 1's output through n
 *   pre-activation blocks of width w2 (stride 2) and n/2 (rounded down) of width w3 (stride 2); aux2
 *   takes stage 2's output through n blocks of width 2*w3 (stride 2); each ends with BN-ReLU, global
 *   average pooling and a linear classifier.
 * - MobileNet (DCM's CIFAR MobileNet, the zoo's `mobilenetv1`): aux1 = separable blocks
 *   [w2 (stride 2), w2 x3] + [w3 (stride 2), w3] on stage 1's output; aux2 = [2*w3 (stride 2), 2*w3]
 *   on stage 2's output; pooling and a linear classifier.
 * - CIFAR ResNets (the survey's ResNet-110 row; no code released): the WRN rule with the net's own
 *   post-activation basic blocks and no final BN-ReLU (an extrapolation, see `deviations`).
 * Widths are the built network's, so narrower protocols scale the heads too. The peer is the
 * `peer` architecture (the student's by default); both networks' accuracies are reported (`peer0` =
 * the student, `peer1` = the peer), as the survey's tables print both.
 */
import { ConfigError, crossEntropy, defineMethod, moduleSeed, ParamModule, softTargetKL, stopGradient, type LossTerms } from '@kdbench/core';
import { tf } from '@kdbench/engine';
import {
  BasicBlock, layers, listModels, parseModelId, PreActBlock, resnetBlocksPerStage, SeparableBlock,
  type FeatureShape, type Model, type StageFeature,
} from '@kdbench/models';
import { forwardPeers, makePeers, peerAccuracies, peerSlots, termName } from './shared/peers.js';

/** One stage of a head: `blocks` blocks of `channels` outputs, the first with stride 2. */
export interface HeadStage {
  readonly channels: number;
  readonly blocks: number;
}

/** The two auxiliary heads of a network: their stages, block type and whether they end with BN-ReLU. */
export interface HeadPlan {
  readonly block: 'preact' | 'basic' | 'separable';
  readonly aux1: readonly HeadStage[];
  readonly aux2: readonly HeadStage[];
  readonly finalBnRelu: boolean;
}

/** The heads DCM puts on `model` (a three-stage WRN, MobileNet or CIFAR ResNet), from its built widths. */
export function dcmHeadPlan(model: Pick<Model, 'id' | 'featureShapes'>): HeadPlan {
  const base = parseModelId(model.id).base;
  const family = listModels().find((m) => m.id === base)?.family;
  if (family !== 'wrn' && family !== 'mobilenetv1' && family !== 'resnet') {
    throw new ConfigError(`dcm: auxiliary heads are defined for WRNs, mobilenetv1 (the authors' code) and three-stage CIFAR ResNets; '${model.id}' is none of these`);
  }
  const stages = model.featureShapes().filter((s) => s.name.startsWith('stage'));
  if (stages.length !== 3) throw new ConfigError(`dcm: heads are defined for three-stage networks; '${model.id}' has ${stages.length} stages`);
  const [w2, w3] = [stages[1]!.channels, stages[2]!.channels];
  if (family === 'mobilenetv1') {
    return { block: 'separable', finalBnRelu: false, aux1: [{ channels: w2, blocks: 4 }, { channels: w3, blocks: 2 }], aux2: [{ channels: 2 * w3, blocks: 2 }] };
  }
  const n = family === 'wrn' ? (Number(/^wrn_(\d+)_/.exec(base)![1]) - 4) / 6 : resnetBlocksPerStage(model.id)!;
  return {
    block: family === 'wrn' ? 'preact' : 'basic', finalBnRelu: family === 'wrn',
    aux1: [{ channels: w2, blocks: n }, { channels: w3, blocks: Math.floor(n / 2) }],
    aux2: [{ channels: 2 * w3, blocks: n }],
  };
}

interface Block {
  readonly outSize: layers.Size2d;
  /** `extra` false: the block returns only its output (and fuses its last ReLU into batch norm). */
  apply(x: tf.Tensor4D, training: boolean, extra?: boolean): { out: tf.Tensor4D };
}

const BLOCKS: Record<HeadPlan['block'], (scope: layers.Scope, inPlanes: number, outPlanes: number, stride: number, size: layers.Size2d) => Block> = {
  preact: (...a) => new PreActBlock(...a),
  basic: (...a) => new BasicBlock(...a),
  separable: (...a) => new SeparableBlock(...a),
};

/** A network's two auxiliary classifiers (after stage 1 and stage 2). */
export class CrossLayerHeads extends ParamModule {
  private readonly heads: { blocks: Block[]; bn: layers.BatchNorm | null; fc: layers.Linear }[] = [];

  /** `shapes`: the network's feature shapes; `name`: the prefix of its buffers' checkpoint names. */
  constructor(seed: number, plan: HeadPlan, shapes: readonly FeatureShape[], numClasses: number, private readonly name: string) {
    super(seed);
    const stages = shapes.filter((s) => s.name.startsWith('stage'));
    [plan.aux1, plan.aux2].forEach((headStages, h) => {
      const input = stages[h]!;
      const scope = this.scope.child(`aux${h + 1}`);
      let channels = input.channels;
      let size = { h: input.height, w: input.width };
      const blocks: Block[] = [];
      headStages.forEach((st, s) => {
        for (let b = 0; b < st.blocks; b++) {
          const block = BLOCKS[plan.block](scope.child(`stage${s + 1}`).child(b), channels, st.channels, b === 0 ? 2 : 1, size);
          blocks.push(block);
          channels = st.channels;
          size = block.outSize;
        }
      });
      const bn = plan.finalBnRelu ? new layers.BatchNorm(scope.child('bn'), channels) : null;
      this.heads.push({ blocks, bn, fc: new layers.Linear(scope.child('fc'), channels, numClasses) });
    });
  }

  /** The two heads' logits from the network's features ([stem, stage1, stage2, ...]). */
  apply(features: readonly StageFeature[], training: boolean): tf.Tensor2D[] {
    return this.heads.map(({ blocks, bn, fc }, h) => {
      let x = features[h + 1]!.post;
      for (const block of blocks) x = block.apply(x, training, false).out;
      if (bn) x = bn.apply(x, training, { relu: true });
      return fc.apply(layers.globalAvgPool(x));
    });
  }

  /** The heads' batch-norm statistics: checkpointed, never optimised. */
  buffers(): Record<string, tf.Variable> {
    return Object.fromEntries(this.store.entries.filter((e) => !e.trainable).map((e) => [`${this.name}/${e.name}`, e.variable]));
  }
}

/** Classifier names of one network, in the order the heads give logits: aux1, aux2, final. */
const HEADS = ['aux1', 'aux2', ''] as const;
const headTerm = (net: number, head: string, term: string) => termName(net, head ? `${head}/${term}` : term);

/**
 * The cross-network KL terms of each classifier: classifier i of network k learns
 * sum_j KL(sg p_j || p_i) over the classifiers j of the other network.
 */
export function crossLayerKL(a: readonly tf.Tensor2D[], b: readonly tf.Tensor2D[]): [tf.Scalar[], tf.Scalar[]] {
  const learn = (mine: readonly tf.Tensor2D[], theirs: readonly tf.Tensor2D[]) =>
    mine.map((z) => tf.tidy(() => tf.addN(theirs.map((t) => softTargetKL(z, stopGradient(t), 1))) as tf.Scalar));
  return [learn(a, b), learn(b, a)];
}

export const dcm = defineMethod({
  id: 'dcm',
  title: 'Dense cross-layer mutual distillation',
  paper: {
    authors: 'A. Yao, D. Sun',
    title: 'Knowledge Transfer via Dense Cross-Layer Mutual-Distillation',
    venue: 'ECCV',
    year: 2020,
    url: 'https://arxiv.org/abs/2008.07816',
  },
  family: 'online',
  knowledge: 'response',
  scheme: 'online',
  teacher: 'none',
  defaults: { peer: '', weight: 1 },
  hyperChoices: { peer: ['', ...listModels().map((m) => m.id)] },
  hyperDocs: {
    peer: "model id of the second network ('' = the student's architecture; the survey's rows pair wrn_28_10 with resnet110 or mobilenetv1)",
    weight: 'weight of every cross-network KL term (1 in the authors\' code)',
  },
  deviations:
    'The heads of CIFAR ResNets (the survey\'s ResNet-110 row) extrapolate the authors\' WRN rule with the ResNet\'s basic blocks: the paper\'s ResNet heads were not read and no code for them was released. '
    + 'The KL terms use plain softmaxes (the code adds 1e-8 to each probability, a numerical guard). '
    + 'The protocol\'s schedule instead of 200 epochs with lr x0.2 at 60/120/160.',
  create: (ctx) => {
    const { hp } = ctx;
    if (!(hp.weight >= 0)) throw new ConfigError(`dcm: weight must be >= 0, got ${hp.weight}`);
    const peers = makePeers(ctx, 2, hp.peer, 'dcm');
    const heads = peers.map((p, k) => new CrossLayerHeads(moduleSeed(ctx.rng, `dcm-heads${k}`), dcmHeadPlan(p), p.featureShapes(), ctx.numClasses, `dcm${k}`));
    return {
      procedure: { networks: peerSlots(peers) },
      parts: { heads0: heads[0]!, heads1: heads[1]!, peers: { metrics: (evaluate) => peerAccuracies(peers, evaluate) } },
      losses: (io) => {
        const classifiers = forwardPeers(peers, io.student, io.x).map((o, k) => [...heads[k]!.apply(o.features, true), o.logits]);
        const kl = crossLayerKL(classifiers[0]!, classifiers[1]!);
        const terms: LossTerms = {};
        classifiers.forEach((zs, k) => zs.forEach((z, h) => {
          terms[headTerm(k, HEADS[h]!, 'ce')] = crossEntropy(z, io.labels);
          terms[headTerm(k, HEADS[h]!, 'kl')] = tf.mul(kl[k]![h]!, hp.weight);
        }));
        return terms;
      },
    };
  },
});
