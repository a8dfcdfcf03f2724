/**
 * The search over knowledge transfer graphs (Minami et al., ACCV 2020; DCL train.py): random gate
 * matrices (Optuna's RandomSampler in the code), pruned by successive halving with reduction factor
 * 2 (the code's SuccessiveHalvingPruner, min_resource 1). Here every candidate of a rung is trained
 * from scratch for that rung's epochs (e, 2e, 4e, ...) and the better half goes on, until one remains.
 */
import type { Rng } from '@kdbench/engine';
import { GATES, checkGates, isTrained, type Gate, type GraphNode } from './transfer-graph.js';

/**
 * `count` gate matrices drawn uniformly: each gate of a trained node's row from the four gates
 * (a row drawn all cutoff is drawn again), every gate of a fixed node's row cutoff. Matrices
 * already drawn are drawn again (up to a bound), so small spaces are not sampled twice.
 */
export function sampleGraphs(rng: Rng, nodes: readonly GraphNode[], count: number): Gate[][][] {
  const n = nodes.length + 1;
  const row = (t: number): Gate[] => {
    if (!isTrained(nodes, t)) return Array<Gate>(n).fill('cutoff');
    for (;;) {
      const r = Array.from({ length: n }, () => GATES[rng.int(GATES.length)]!);
      if (r.some((g) => g !== 'cutoff')) return r;
    }
  };
  const out: Gate[][][] = [];
  const seen = new Set<string>();
  for (let tries = 0; out.length < count && tries < 100 * count; tries++) {
    const gates = Array.from({ length: n }, (_, t) => row(t));
    const key = JSON.stringify(gates);
    if (seen.has(key)) continue;
    seen.add(key);
    checkGates('ktg', gates, nodes);
    out.push(gates);
  }
  return out;
}

export interface RungScore {
  readonly rung: number;
  readonly epochs: number;
  readonly top1: number;
}

/**
 * Successive halving: rung r trains the surviving candidates for firstEpochs * 2^r epochs each
 * (`score` returns the held-out top-1), keeps the better half (rounded up; ties to the earlier
 * candidate) and stops when one is left. Returns the winner's index and every candidate's scores.
 */
export function successiveHalving(count: number, firstEpochs: number, score: (candidate: number, epochs: number) => number): { best: number; scores: RungScore[][] } {
  if (!(Number.isInteger(count) && count >= 1)) throw new Error(`successiveHalving: count must be a positive integer, got ${count}`);
  const scores: RungScore[][] = Array.from({ length: count }, () => []);
  let alive = [...Array(count).keys()];
  for (let rung = 0, epochs = firstEpochs; alive.length > 1; rung++, epochs *= 2) {
    for (const c of alive) scores[c]!.push({ rung, epochs, top1: score(c, epochs) });
    const last = (c: number) => scores[c]!.at(-1)!.top1;
    alive = [...alive].sort((a, b) => last(b) - last(a) || a - b).slice(0, Math.ceil(alive.length / 2)).sort((a, b) => a - b);
  }
  return { best: alive[0]!, scores };
}
