/**
 * DML: Y. Zhang, T. Xiang, T. M. Hospedales, H. Lu, "Deep Mutual Learning", CVPR 2018
 * (arXiv:1706.00384, https://arxiv.org/abs/1706.00384).
 *
 * K peers start from scratch and learn together; no teacher is trained beforehand. Peer k
 * minimises its cross-entropy plus the mean KL divergence from every other peer's prediction:
 *   L_k = CE(z_k, y) + 1/(K-1) * sum_{l != k} KL(p_l || p_k),   p = softmax(z)  (no temperature),
 * with the other peers' predictions as fixed targets (Eq. 5 and Algorithm 1 of the paper).
 * Peer 0 is the run's student; the others are networks of the `peer` architecture (the student's
 * by default) in the contract's `networks`, trained in the main stage. Every peer's accuracy is
 * reported (`peer0` = the student), as the survey's tables report both networks of a DML pair.
 *
 * Checked against the authors' code: YingZhangDUT/Deep-Mutual-Learning train_models.py
 * (kl_loss_compute, _tower_loss, train) @ 34a2058: CE plus KL(p_l || p_k) at temperature 1, batch
 * mean, each network's gradient taken for its own variables only (the others' predictions act as
 * fixed targets), match for the default 2 peers. With more peers the code sums the KL terms, where
 * we average them as the paper does for K networks. The code also updates the networks one after
 * another (see deviations); its KL carries 1e-8 guards, which we omit.
 */
import { crossEntropy, defineMethod, softTargetKL, stopGradient, type LossTerms } from '@kdbench/core';
import { tf } from '@kdbench/engine';
import { listModels } from '@kdbench/models';
import { forwardPeers, makePeers, peerAccuracies, peerSlots, termName } from './shared/peers.js';

/** Peer k's mimicry term: the mean over the other peers l of KL(p_l || p_k), the p_l held fixed. */
export function mutualKL(logits: readonly tf.Tensor2D[], k: number): tf.Scalar {
  return tf.tidy(() => {
    const others = logits.filter((_, l) => l !== k).map((z) => softTargetKL(logits[k]!, stopGradient(z), 1));
    return tf.div(tf.addN(others), others.length) as tf.Scalar;
  });
}

export const dml = defineMethod({
  id: 'dml',
  title: 'Deep mutual learning (peers teach each other)',
  paper: {
    authors: 'Y. Zhang, T. Xiang, T. M. Hospedales, H. Lu',
    title: 'Deep Mutual Learning',
    venue: 'CVPR',
    year: 2018,
    url: 'https://arxiv.org/abs/1706.00384',
  },
  family: 'online',
  knowledge: 'response',
  scheme: 'online',
  teacher: 'none',
  defaults: { peers: 2, peer: '', weight: 1 },
  hyperChoices: { peer: ['', ...listModels().map((m) => m.id)] },
  hyperDocs: {
    peers: 'number of networks trained together (the student is peer 0); the paper uses 2 (and up to 5)',
    peer: "model id of the other peers ('' = the student's architecture)",
    weight: 'weight of the mimicry KL term (1 in the paper)',
  },
  deviations:
    'All peers take one joint SGD step per batch against each other\'s predictions from the same forward pass; '
    + 'Algorithm 1 of the paper updates the peers one after another, each against the others\' predictions recomputed after the previous update, and so does the authors\' code (train_models.py: one session run per network, each on a new batch).',
  create: (ctx) => {
    const { hp } = ctx;
    const peers = makePeers(ctx, hp.peers, hp.peer, 'dml');
    return {
      procedure: { networks: peerSlots(peers) },
      parts: { peers: { metrics: (evaluate) => peerAccuracies(peers, evaluate) } },
      losses: (io) => {
        const outs = forwardPeers(peers, io.student, io.x);
        const logits = outs.map((o) => o.logits);
        const terms: LossTerms = {};
        logits.forEach((z, k) => {
          terms[termName(k, 'ce')] = crossEntropy(z, io.labels);
          terms[termName(k, 'kl')] = tf.mul(mutualKL(logits, k), hp.weight);
        });
        return terms;
      },
    };
  },
});
