/**
 * KTG: S. Minami, T. Hirakawa, T. Yamashita, H. Fujiyoshi, "Knowledge Transfer Graph for Deep
 * Collaborative Learning", ACCV 2020 (arXiv:1909.04286, https://arxiv.org/abs/1909.04286). Authors'
 * code: github.com/somaminami/DCL @ b9c5cf1a19c25136524228a8106094e29cbc7986 (lib/loss_func.py,
 * train.py, lib/trainer.py, lib/utils.py).
 *
 * A graph controls how knowledge passes between networks: vertices are networks (node 0 the student,
 * the others trained together with it or pre-trained and fixed), every ordered pair s -> t an edge
 * whose loss enters t through a gate (shared/transfer-graph.ts):
 *   L_t = sum_s gate_{s,t}( l_{s,t} ),  l_{t,t} = CE(z_t, y),  l_{s,t} = T^2 KL(softmax(z_s/T) || softmax(z_t/T)) (z_s detached),
 *   gates: through (mean), cutoff (0), linear ((epoch + progress) / epochs * mean), correct (mean of the rows the source classifies correctly).
 * The trainable nodes minimise the sum of their L_t together (each L_t reaches only node t, as the
 * code's per-node optimisers do). The graph is given as hyperparameters (`nodes`, `gates`), or
 * searched (`search` > 0): random gate matrices pruned by successive halving, each candidate trained
 * for a few epochs on part of the training split and scored by top-1 on the held-out rest
 * (shared/graph-search.ts); the best graph is then trained in the main stage.
 * Defaults: T = 1 (KLLoss), three nodes (train.py --num_nodes 3): the student, a peer of its
 * architecture and the run's teacher (fixed), every edge between trained nodes through.
 */
import { carveValidation, ConfigError, defineMethod, type MethodContext, type StepIO } from '@kdbench/core';
import type { Model } from '@kdbench/models';
import { tf } from '@kdbench/engine';
import { sampleGraphs, successiveHalving, type RungScore } from './shared/graph-search.js';
import {
  formatGates, graphLosses, isTrained, parseGates, parseNodes, storedTeachers, type Gate, type GraphNode,
} from './shared/transfer-graph.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const DEFAULTS = {
  nodes: 'student teacher',
  gates: 'through through through / through through through / cutoff cutoff cutoff',
  T: 1,
  search: 0,
  searchEpochs: 1,
  validation: 0.2,
};
type KtgHyper = typeof DEFAULTS;

/** Trained networks of a graph (index = node; node 0's slot holds the network trained as the student). */
function trainedNetworks(ctx: MethodContext<KtgHyper>, nodes: readonly GraphNode[], node0: Model, prefix: string): (Model | null)[] {
  return [node0, ...nodes.map((n, i) => (n.kind === 'trained' ? ctx.createNetwork(`${prefix}node${i + 1}`, n.model ? { model: n.model } : {}) : null))];
}

/** Logits of every node for a batch: node 0 from io.student, trained nodes in training mode, fixed nodes in eval mode. */
function nodeLogits(io: StepIO, nodes: readonly GraphNode[], nets: readonly (Model | null)[], ctx: MethodContext<KtgHyper>): tf.Tensor2D[] {
  let stored = 0;
  return [io.student.logits, ...nodes.map((n, i) => {
    if (n.kind === 'trained') return nets[i + 1]!.forward(io.x, { training: true }).logits;
    if (n.kind === 'teacher') return (io.teacher ?? ctx.teacher!.forward(io.x, { training: false })).logits;
    const j = stored++;
    return (io.teachers?.[j] ?? ctx.teachers[j]!.forward(io.x, { training: false })).logits;
  })];
}

/** The trained networks of a trial as one model for ctx.probe: node 0's forward pass, every node's variables. */
function groupModel(nets: readonly Model[]): Model {
  const first = nets[0]!;
  return {
    id: `ktg(${nets.map((m) => m.id).join(',')})`,
    options: first.options,
    forward: (x, opts) => first.forward(x, opts),
    trainableVariables: () => nets.flatMap((m) => m.trainableVariables()),
    classifierVariables: () => first.classifierVariables(),
    namedVariables: () => nets.flatMap((m, i) => m.namedVariables().map((v) => ({ ...v, name: `node${i}.${v.name}` }))),
    paramCount: () => nets.reduce((n, m) => n + m.paramCount(), 0),
    flops: () => first.flops(),
    featureShapes: () => first.featureShapes(),
    dispose: () => nets.forEach((m) => m.dispose()),
  };
}

interface SearchRecord {
  readonly gates: Gate[][];
  readonly trials: { gates: string; scores: RungScore[] }[];
  readonly best: number;
  readonly seconds: number;
}

/** Random gate matrices pruned by successive halving, each trial a short probe training of fresh networks. */
function searchGraph(ctx: MethodContext<KtgHyper>, nodes: readonly GraphNode[]): SearchRecord {
  const { hp } = ctx;
  const rows = carveValidation(ctx.trainLabels, hp.validation, ctx.rng.fork('ktg.validation'));
  const candidates = sampleGraphs(ctx.rng.fork('ktg.search'), nodes, hp.search);
  const t0 = performance.now();
  const { best, scores } = successiveHalving(candidates.length, hp.searchEpochs, (c, epochs) => {
    const prefix = `trial${c}.`; // the same initial networks at every rung
    const nets = trainedNetworks(ctx, nodes, ctx.createNetwork(`${prefix}node0`), prefix);
    const group = groupModel(nets.filter((m): m is Model => m !== null));
    try {
      const losses = (io: StepIO) => graphLosses(candidates[c]!, nodeLogits(io, nodes, nets, ctx), io.labels, hp.T, (io.epoch + io.progress) / epochs);
      return ctx.probe(group, { epochs, trainRows: rows.train, validationRows: rows.validation, losses }).top1;
    } finally {
      group.dispose();
    }
  });
  return {
    gates: candidates[best]!, best, seconds: (performance.now() - t0) / 1000,
    trials: candidates.map((g, i) => ({ gates: formatGates(g), scores: scores[i]! })),
  };
}

function checkHyper(hp: KtgHyper): void {
  if (!(hp.T > 0)) throw new ConfigError(`ktg: T must be > 0, got ${hp.T}`);
  if (!(Number.isInteger(hp.search) && hp.search >= 0)) throw new ConfigError(`ktg: search must be an integer >= 0 (0: use gates), got ${hp.search}`);
  if (!(Number.isInteger(hp.searchEpochs) && hp.searchEpochs >= 1)) throw new ConfigError(`ktg: searchEpochs must be a positive integer, got ${hp.searchEpochs}`);
  if (!(hp.validation > 0 && hp.validation < 1)) throw new ConfigError(`ktg: validation must be in (0, 1), got ${hp.validation}`);
}

export const ktg = defineMethod({
  id: 'ktg',
  title: 'Knowledge transfer graph (gated losses between networks)',
  paper: {
    authors: 'S. Minami, T. Hirakawa, T. Yamashita, H. Fujiyoshi',
    title: 'Knowledge Transfer Graph for Deep Collaborative Learning',
    venue: 'ACCV',
    year: 2020,
    url: 'https://arxiv.org/abs/1909.04286',
  },
  family: 'graph',
  knowledge: 'response',
  scheme: 'online',
  teacher: 'required',
  teacherOutputs: 'logits',
  defaults: DEFAULTS,
  hyperDocs: {
    nodes: "networks besides the student (node 0), separated by spaces: 'student' or a model id (trained with it), 'teacher' (the run's teacher) or model:seed (pre-trained in the teacher store, e.g. teacher:1); pre-trained nodes are fixed",
    gates: "n rows separated by '/', row t the gates of the edges s -> t for s = 0..n-1 separated by spaces: through | cutoff | linear | correct (the diagonal is the cross-entropy with labels); a fixed node's row is all cutoff",
    T: 'temperature of the KL edges (the code: 1)',
    search: 'random graphs tried by successive halving before training (0: train the graph in gates)',
    searchEpochs: 'epochs of the first rung of the search; each later rung doubles them',
    validation: 'fraction of each class of the training split held out to score the searched graphs',
  },
  deviations:
    'Fixed (pre-trained) nodes run in evaluation mode, where the code runs every network in training mode (moving their batch-norm ' +
    'statistics). The linear gate weighs by the fraction of the stage done, (epoch + progress) / epochs, as the code\'s iteration / ' +
    'total iterations does. The search is sized for the quick protocol: `search` random graphs (the code: 1500 trials of 200 epochs), ' +
    'successive halving by retraining each survivor from scratch for twice the epochs (the code prunes one training at rungs 1, 2, 4, ... ' +
    'epochs), scored on held-out training rows (the code selects by test accuracy), over the gates only (the code also draws each ' +
    'non-target node\'s model). The default graph (a peer and the teacher, all edges between trained nodes through) is a kdbench choice: ' +
    'the paper\'s searched graphs could not be read.',
  extraTeachers: (hp, teacher) => storedTeachers(parseNodes('ktg', hp.nodes, teacher)),
  create: (ctx) => {
    const { hp } = ctx;
    checkHyper(hp);
    const nodes = parseNodes('ktg', hp.nodes, ctx.teacher.id);
    const given = hp.search === 0 ? parseGates('ktg', hp.gates, nodes) : null;
    const search = given ? null : searchGraph(ctx, nodes);
    const gates = given ?? search!.gates;
    const nets = trainedNetworks(ctx, nodes, ctx.student, '');
    const networks = Object.fromEntries(nets.flatMap((m, i) => (i > 0 && m ? [[`node${i}`, { model: m, trainInMain: true }]] : [])));
    const fixed = (i: number) => {
      const n = nodes[i - 1]!;
      return n.kind === 'teacher' ? ctx.teacher : ctx.teachers[storedTeachers(nodes.slice(0, i)).length - 1]!;
    };
    return {
      procedure: { networks },
      parts: {
        graph: {
          metrics: (evaluate) => {
            const out: Record<string, number> = {};
            nodes.forEach((_, k) => { out[`node${k + 1}_top1`] = evaluate(isTrained(nodes, k + 1) ? nets[k + 1]! : fixed(k + 1)).top1; });
            if (search) {
              // named as the NAS family names a search: candidates, searched_candidate, candidate_<i>_*
              out.candidates = search.trials.length;
              out.searched_candidate = search.best;
              out.search_seconds = search.seconds;
              search.trials.forEach((t, i) => {
                const last = t.scores.at(-1);
                out[`candidate_${i}_top1`] = last?.top1 ?? 0;
                out[`candidate_${i}_epochs`] = last?.epochs ?? 0;
              });
            }
            return out;
          },
          artifacts: (dir) => {
            const file = 'ktg-graph.json';
            writeFileSync(join(dir, file), JSON.stringify({ nodes: hp.nodes, gates: formatGates(gates), search }, null, 2));
            return [file];
          },
        },
      },
      losses: (io) => graphLosses(gates, nodeLogits(io, nodes, nets, ctx), io.labels, hp.T, (io.epoch + io.progress) / ctx.epochs),
    };
  },
});
