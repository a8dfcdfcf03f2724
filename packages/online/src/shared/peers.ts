/**
 * Pieces shared by the online methods of this package: building a method's peer networks (peer 0 is
 * the run's student), naming them for the contract's `networks`, forwarding them on a batch, and
 * the evaluation views (one per peer, and the mean of their logits).
 */
import { ConfigError, type MethodContext, type NetworkSlot } from '@kdbench/core';
import { tf } from '@kdbench/engine';
import { viewModel, type ForwardResult, type Model } from '@kdbench/models';

/** The student (peer 0) and `count - 1` fresh networks of architecture `model` ('' = the student's). */
export function makePeers(ctx: MethodContext<any>, count: number, model: string, method: string): Model[] {
  if (!Number.isInteger(count) || count < 2) throw new ConfigError(`${method}: peers must be an integer >= 2, got ${count}`);
  const extra = Array.from({ length: count - 1 }, (_, i) => ctx.createNetwork(`peer${i + 1}`, model ? { model } : {}));
  return [ctx.student, ...extra];
}

/** The `networks` entries of the extra peers, trained in the main stage with the student. */
export function peerSlots(peers: readonly Model[]): Record<string, NetworkSlot> {
  return Object.fromEntries(peers.slice(1).map((m, i) => [`peer${i + 1}`, { model: m, trainInMain: true }]));
}

/** Every peer's forward pass in training mode on `x` (peer 0 reuses the student's pass). */
export function forwardPeers(peers: readonly Model[], student: ForwardResult, x: tf.Tensor4D): ForwardResult[] {
  return peers.map((p, i) => (i === 0 ? student : p.forward(x, { training: true })));
}

/** Loss-term name of a peer's term: the student's terms keep their plain names. */
export const termName = (peer: number, term: string): string => (peer === 0 ? term : `peer${peer}/${term}`);

/** Mean of the peers' logits (eval mode) as a Model, for reporting the ensemble's accuracy. */
export function meanLogitsView(id: string, peers: readonly Model[]): Model {
  return viewModel(id, peers[0]!, (x, opts) => {
    const outs = peers.map((p) => p.forward(x, opts));
    const logits = tf.div(tf.addN(outs.map((o) => o.logits)), peers.length) as tf.Tensor2D;
    return { ...outs[0]!, logits };
  });
}

/** Top-1 of every peer (`peer0` is the student), as metrics. */
export function peerAccuracies(peers: readonly Model[], evaluate: (m: Model) => { top1: number }): Record<string, number> {
  return Object.fromEntries(peers.map((p, i) => [`peer${i}`, evaluate(p).top1]));
}
