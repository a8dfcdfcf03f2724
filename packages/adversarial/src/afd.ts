/**
 * AFD: I. Chung, S. Park, J. Kim, N. Kwak, "Feature-map-level Online Adversarial Knowledge
 * Distillation", ICML 2020 (arXiv:2002.01775, https://arxiv.org/abs/2002.01775).
 *
 * Online adversarial distillation between two peers trained together from scratch (no pretrained
 * teacher): network 1 (the student evaluated by the run) and network 2 (the peer). Each network is
 * a feature extractor G_k followed by its classifier. Each network has its own discriminator on
 * last-stage feature maps, which takes the other network's map as real and its own as fake; each
 * feature extractor learns to fool its discriminator, i.e. to produce maps distributed like its
 * peer's. With F1, F2 the last-stage maps (F1 through a 1x1 transfer conv when the channel counts
 * differ) and the least-squares GAN objective, every batch takes three steps:
 *   L_D = (D1(F2) - 1)^2 + D1(F1)^2 + (D2(F1) - 1)^2 + D2(F2)^2          (player 'discriminators', Adam)
 *   L_G = beta * [(D1(F1) - 1)^2 + (D2(F2) - 1)^2]        (player 'feature-extractors': G_1, G_2 and the
 *                                                          transfer conv only, own SGD at a smaller rate)
 *   L_logit = CE(z1, y) + CE(z2, y) + T^2 KL(p2 || p1) + T^2 KL(p1 || p2)  (main step, whole networks;
 *                                                          DML, the other's p held fixed)
 * The logit and feature-map losses are minimised by separate optimisers because the adversarial one
 * needs a smaller learning rate: one optimiser on their sum does not train (measured here: with both
 * in one step at the networks' rate, beta 1 kept the cross-entropy at 2.06 for 3 epochs, against
 * 1.79 with beta 0).
 * Discriminators: two stride-2 3x3 convs with LeakyReLU(0.2), pooled, linear score.
 *
 * No public code from the authors (searched: the code corpus for the paper's title and AFD; a paper
 * catalogue, wds-seu/Knowledge-Graph-Publications, lists an empty code link, and the one
 * implementation found is a third party's).
 */
import { ConvStack, crossEntropy, defineMethod, moduleSeed, owning, softTargetKL, stopGradient } from '@kdbench/core';
import { tf } from '@kdbench/engine';
import { listModels, type Model } from '@kdbench/models';
import { ConvDiscriminator, leastSquares } from './shared/gan.js';

export const afd = defineMethod({
  id: 'afd',
  title: 'AFD: online adversarial feature-map distillation between two peers',
  paper: {
    authors: 'I. Chung, S. Park, J. Kim, N. Kwak',
    title: 'Feature-map-level Online Adversarial Knowledge Distillation',
    venue: 'ICML',
    year: 2020,
    url: 'https://arxiv.org/abs/2002.01775',
  },
  family: 'adversarial',
  knowledge: 'feature',
  scheme: 'online',
  teacher: 'none',
  defaults: { peer: '', T: 1, beta: 1, width: 64, lrD: 0.0002, lrG: 0.005 },
  hyperChoices: { peer: ['', ...listModels().map((m) => m.id)] },
  hyperDocs: {
    peer: "architecture of the peer network (empty: the student's)",
    T: 'temperature of the mutual KL terms',
    beta: 'weight of the feature-map adversarial terms',
    width: 'channels of the discriminators\' convolutions',
    lrD: 'discriminators\' learning rate (Adam, betas 0.5 / 0.999)',
    lrG: 'feature extractors\' learning rate in the adversarial step (SGD, momentum 0.9, the protocol\'s schedule)',
  },
  smallHyper: { width: 8 },
  deviations:
    'Two peers only (no cyclic scheme for more). The paper\'s text was not available here: the alternating logit / feature-map ' +
    'steps with a smaller rate for the latter follow secondary summaries of it; the discriminator layout, the optimisers and ' +
    'their rates (lrD, lrG = a tenth of the quick protocol\'s 0.05) are ours. The discriminators step first in each batch, then ' +
    'the feature extractors, then the logit step.',
  create: (ctx) => {
    const { hp, rng } = ctx;
    const student = ctx.student;
    const peer: Model = ctx.createNetwork('peer', hp.peer ? { model: hp.peer } : {});
    const last = (m: Model) => m.featureShapes().filter((s) => s.name !== 'embedding').at(-1)!;
    const f1 = last(student);
    const f2 = last(peer);
    if (f1.height !== f2.height || f1.width !== f2.width) {
      peer.dispose();
      throw new Error(`afd: last feature maps differ in size (${f1.height}x${f1.width} vs ${f2.height}x${f2.width})`);
    }
    const transfer = f1.channels === f2.channels ? undefined
      : new ConvStack(f1.channels, { h: f1.height, w: f1.width }, [{ out: f2.channels, kernel: 1 }], moduleSeed(rng, 'transfer'));
    const input = { h: f2.height, w: f2.width, channels: f2.channels };
    const d1 = new ConvDiscriminator(moduleSeed(rng, 'discriminator1'), input, hp.width);
    const d2 = new ConvDiscriminator(moduleSeed(rng, 'discriminator2'), input, hp.width);
    const maps = (s: tf.Tensor4D, p: tf.Tensor4D): [tf.Tensor4D, tf.Tensor4D] => [transfer ? transfer.apply(s) : s, p];
    const lastMap = (features: { post: tf.Tensor4D }[]) => features.at(-1)!.post;
    const featureExtractor = (m: Model) => {
      const head = new Set(m.classifierVariables());
      return m.trainableVariables().filter((v) => !head.has(v));
    };
    return {
      parts: { ...(transfer ? { transfer } : {}), discriminators: owning(d1, d2), peer: { metrics: (evaluate) => ({ peer: evaluate(peer).top1 }) } },
      procedure: {
        networks: { peer: { model: peer, trainInMain: true } },
        players: [{
        name: 'discriminators',
        optimizer: { kind: 'adam', lr: hp.lrD, beta1: 0.5, beta2: 0.999 },
        variables: () => [...d1.trainableVariables(), ...d2.trainableVariables()],
        losses: (io) => {
          const [a, b] = maps(lastMap(io.student.features), lastMap(peer.forward(io.x, { training: true }).features));
          return {
            real1: leastSquares(d1.apply(b), 1), fake1: leastSquares(d1.apply(a), 0),
            real2: leastSquares(d2.apply(a), 1), fake2: leastSquares(d2.apply(b), 0),
          };
        },
      }, {
        name: 'feature-extractors',
        optimizer: { kind: 'sgd', lr: hp.lrG, momentum: 0.9, weightDecay: 0, schedule: true },
        variables: () => [...featureExtractor(student), ...featureExtractor(peer), ...(transfer?.trainableVariables() ?? [])],
        losses: (io) => {
          const [a, b] = maps(lastMap(io.student.features), lastMap(peer.forward(io.x, { training: true }).features));
          return {
            adversarial: tf.mul(leastSquares(d1.apply(a), 1), hp.beta),
            adversarial_peer: tf.mul(leastSquares(d2.apply(b), 1), hp.beta),
          };
        },
        }],
      },
      losses: (io) => {
        const z1 = io.student.logits;
        const z2 = peer.forward(io.x, { training: true }).logits;
        return {
          ce: crossEntropy(z1, io.labels),
          ce_peer: crossEntropy(z2, io.labels),
          kl: softTargetKL(z1, stopGradient(z2), hp.T),
          kl_peer: softTargetKL(z2, stopGradient(z1), hp.T),
        };
      },
    };
  },
});
