/**
 * KDCL: Q. Guo, X. Wang, Y. Wu, Z. Yu, D. Liang, X. Hu, P. Luo, "Online Knowledge Distillation via
 * Collaborative Learning", CVPR 2020 (https://openaccess.thecvf.com/content_CVPR_2020/html/
 * Guo_Online_Knowledge_Distillation_via_Collaborative_Learning_CVPR_2020_paper.html).
 *
 * m peers (possibly of different architectures) are trained together; instead of each peer
 * imitating the others (DML), their outputs are combined into one soft target, the ensemble
 * teacher z_t, which every peer distils from:
 *   L = sum_k [ CE(z_k, y) + lambda * T^2 * KL(softmax(z_t/T) || softmax(z_k/T)) ],  z_t held fixed.
 * Ensembles implemented (the paper's KDCL-Naive and KDCL-MinLogit):
 *   naive:    z_t = mean_k z_k;
 *   minlogit: z_t,j = min_k (z_k,j - z_k,c) with c the label, i.e. each peer's logits shifted so the
 *             true class scores 0, then the element-wise minimum: the least confusing non-target logits.
 * Peer 0 is the run's student; every peer's accuracy is reported (`peer0` = the student), and the
 * mean of the peers' logits as `ensemble` (MinLogit needs labels, so it is not an inference ensemble).
 *
 * No public code from the authors (searched: the code corpus for KDCL, MinLogit and the paper's
 * title; only a third-party re-implementation turned up, which says its parameters differ from the
 * paper's).
 */
import { crossEntropy, defineMethod, softTargetKL, stopGradient, type LossTerms } from '@kdbench/core';
import { tf } from '@kdbench/engine';
import { listModels } from '@kdbench/models';
import { forwardPeers, makePeers, meanLogitsView, peerAccuracies, peerSlots, termName } from './shared/peers.js';

/** KDCL-MinLogit: z_t[b, j] = min_k (z_k[b, j] - z_k[b, y_b]). */
export function minLogitEnsemble(logits: readonly tf.Tensor2D[], labels: tf.Tensor1D): tf.Tensor2D {
  return tf.tidy(() => {
    const onehot = tf.oneHot(tf.cast(labels, 'int32'), logits[0]!.shape[1]);
    const shifted = logits.map((z) => tf.sub(z, tf.sum(tf.mul(z, onehot), 1, true)));
    return tf.min(tf.stack(shifted), 0) as tf.Tensor2D;
  });
}

/** KDCL-Naive: the mean of the peers' logits. */
export function naiveEnsemble(logits: readonly tf.Tensor2D[]): tf.Tensor2D {
  return tf.tidy(() => tf.div(tf.addN(logits as tf.Tensor2D[]), logits.length) as tf.Tensor2D);
}

export const kdcl = defineMethod({
  id: 'kdcl',
  title: 'Collaborative learning with an ensemble teacher of peers',
  paper: {
    authors: 'Q. Guo, X. Wang, Y. Wu, Z. Yu, D. Liang, X. Hu, P. Luo',
    title: 'Online Knowledge Distillation via Collaborative Learning',
    venue: 'CVPR',
    year: 2020,
    url: 'https://openaccess.thecvf.com/content_CVPR_2020/html/Guo_Online_Knowledge_Distillation_via_Collaborative_Learning_CVPR_2020_paper.html',
  },
  family: 'online',
  knowledge: 'response',
  scheme: 'online',
  teacher: 'none',
  defaults: { peers: 2, peer: '', ensemble: 'minlogit', T: 2, lambda: 1 },
  hyperChoices: { peer: ['', ...listModels().map((m) => m.id)], ensemble: ['minlogit', 'naive'] },
  hyperDocs: {
    peers: 'number of networks trained together (the student is peer 0)',
    peer: "model id of the other peers ('' = the student's architecture; the survey's CIFAR-100 row pairs resnet32 with wrn_16_2)",
    ensemble: "how the teacher is built from the peers' logits: 'minlogit' (KDCL-MinLogit) or 'naive' (mean logits)",
    T: 'softmax temperature of the ensemble-to-peer KL',
    lambda: 'weight of the T^2-scaled KL term',
  },
  deviations:
    'All peers see the same augmented batch (the paper feeds each peer its own random distortion of the image); '
    + 'only the Naive and MinLogit ensembles are implemented (not KDCL-Linear or KDCL-General, which fit ensemble weights on held-out data); '
    + 'T = 2 and lambda = 1 are our reading of the paper, not checked against released code (none was found).',
  create: (ctx) => {
    const { hp } = ctx;
    if (hp.ensemble !== 'minlogit' && hp.ensemble !== 'naive') throw new Error(`kdcl: ensemble must be 'minlogit' or 'naive', got '${hp.ensemble}'`);
    const peers = makePeers(ctx, hp.peers, hp.peer, 'kdcl');
    return {
      procedure: { networks: peerSlots(peers) },
      parts: {
        peers: { metrics: (evaluate) => ({ ...peerAccuracies(peers, evaluate), ensemble: evaluate(meanLogitsView('kdcl-ensemble', peers)).top1 }) },
      },
      losses: (io) => {
        const logits = forwardPeers(peers, io.student, io.x).map((o) => o.logits);
        const teacher = stopGradient(hp.ensemble === 'minlogit' ? minLogitEnsemble(logits, io.labels) : naiveEnsemble(logits));
        const terms: LossTerms = {};
        logits.forEach((z, k) => {
          terms[termName(k, 'ce')] = crossEntropy(z, io.labels);
          terms[termName(k, 'kl')] = tf.mul(softTargetKL(z, teacher, hp.T), hp.lambda);
        });
        return terms;
      },
    };
  },
});
