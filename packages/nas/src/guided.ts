/**
 * Teacher-guided architecture search followed by distillation, shared by `nasrandom` and `nasevo`
 * (the survey's section 5.9): the method's `create` searches a student in CIFAR_SPACE under a MAC
 * (and optionally parameter) budget, then returns the best genome's network, freshly initialised,
 * as the run's `student`, which the main stage trains with Hinton's KD on the whole training split.
 *
 * Each candidate is scored by a short training (`ctx.probe`: `probeEpochs` epochs on the training
 * rows left after carving a class-balanced validation fraction) and its top-1 on those validation
 * rows; the evaluation split is never used by the search. Two scores (hp `score`):
 * - `kd`: the probe minimises the KD loss (gamma * CE + alpha * T^2 KL against the teacher), and the
 *   score is the validation top-1;
 * - `tgsa` (TG-SAGE, Bashivan, Tensen & DiCarlo, ICCV 2019): the probe trains on labels only, and the
 *   teacher guides the search through representational similarity: on the probe's last epoch, the
 *   Pearson correlation of the candidate's and the teacher's RDMs at the end of each stage (see
 *   rsa.ts), averaged; the score is (1 - w) * top1/100 + w * similarity, w = `tgsaWeight`.
 *
 * The search runs inside `create`, so a resumed run repeats it (deterministically under the seed).
 * Reported: search seconds, number of candidates, the budget, the searched network's MACs and
 * parameters, and per candidate its probe top-1, score, MACs and parameters (metric keys
 * `candidate_<i>_*`, and the full list with genomes in the artifact `nas-search.json`).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crossEntropy, softTargetKL, type LossTerms, type MethodContext, type MethodInstance, type StepIO } from '@kdbench/core';
import { tf } from '@kdbench/engine';
import { createSearchableModel, type ForwardResult, type SearchGenome } from '@kdbench/models';
import { CIFAR_SPACE, measureFor, type Budget } from './space.js';
import type { Candidate, SearchOptions, SearchResult, Score } from './search.js';
import { carveValidation } from './split.js';
import { pearson, rdmOfTensor } from './rsa.js';

export const SEARCH_DEFAULTS = {
  maxMacs: 0,
  maxParams: 0,
  score: 'kd',
  candidates: 12,
  probeEpochs: 2,
  validation: 0.2,
  tgsaWeight: 0.5,
  T: 4,
  gamma: 0.1,
  alpha: 0.9,
};

export type SearchHyper = typeof SEARCH_DEFAULTS;

export const SEARCH_DOCS: Record<keyof SearchHyper, string> = {
  maxMacs: "MAC budget of the searched student per 32x32 image (0: the MACs of the run's hand-made student)",
  maxParams: 'parameter budget of the searched student (0: no parameter limit)',
  score: "candidate score: 'kd' (validation top-1 after a short KD training) or 'tgsa' (TG-SAGE: top-1 mixed with RDM similarity to the teacher)",
  candidates: 'candidates scored in all (search cost)',
  probeEpochs: 'epochs of the short training that scores one candidate',
  validation: 'fraction of each class of the training split held out to score candidates',
  tgsaWeight: "weight of the representational similarity in the 'tgsa' score",
  T: 'KD temperature (probes and the final training)',
  gamma: 'weight of the cross-entropy with labels (probes and the final training)',
  alpha: 'weight of the KD term (probes and the final training)',
};

const seedOf = (ctx: MethodContext<SearchHyper>, name: string) => ctx.rng.fork(name).int(2 ** 31 - 1);

function kdTerms(ctx: MethodContext<SearchHyper>, student: ForwardResult, labels: tf.Tensor1D, teacherLogits: tf.Tensor2D): LossTerms {
  return {
    ce: tf.mul(crossEntropy(student.logits, labels), ctx.hp.gamma),
    kd: tf.mul(softTargetKL(student.logits, teacherLogits, ctx.hp.T), ctx.hp.alpha),
  };
}

/** Mean RDM similarity of the candidate's and the teacher's stage outputs on one batch (stem excluded). */
export function stageSimilarity(student: ForwardResult, teacher: ForwardResult): number {
  const s = student.features.slice(1);
  const t = teacher.features.slice(1);
  const sims = s.map((f, i) => {
    const j = Math.max(0, Math.round(((i + 1) * t.length) / s.length) - 1);
    return pearson(rdmOfTensor(f.post), rdmOfTensor(t[j]!.post));
  });
  return sims.reduce((a, b) => a + b, 0) / sims.length;
}

/** Runs the search with `strategy` and returns the method instance that distils into the searched network. */
export function searchAndDistil(
  ctx: MethodContext<SearchHyper, 'required'>, strategy: (opts: SearchOptions) => SearchResult, methodId: string,
): MethodInstance<'required'> {
  const { hp } = ctx;
  const teacher = ctx.teacher;
  if (hp.score !== 'kd' && hp.score !== 'tgsa') throw new Error(`${methodId}: score must be 'kd' or 'tgsa', got '${hp.score}'`);
  if (!(Number.isInteger(hp.probeEpochs) && hp.probeEpochs >= 1)) throw new Error(`${methodId}: probeEpochs must be a positive integer, got ${hp.probeEpochs}`);
  const budget: Budget = {
    maxMacs: hp.maxMacs > 0 ? hp.maxMacs : ctx.student.flops(),
    maxParams: hp.maxParams > 0 ? hp.maxParams : Infinity,
  };
  const widthFactor = ctx.student.options.widthFactor;
  const measure = measureFor(ctx.numClasses, widthFactor);
  const rows = carveValidation(ctx.trainLabels, hp.validation, ctx.rng.fork('validation'));

  const score = (genome: SearchGenome, born: number): Score => {
    const model = createSearchableModel(genome, { numClasses: ctx.numClasses, widthFactor, seed: seedOf(ctx, `candidate:${born}`) });
    const sims: number[] = [];
    const teacherOf = (io: StepIO) => io.teacher ?? teacher.forward(io.x, { training: false });
    const losses = hp.score === 'kd'
      ? (io: StepIO) => kdTerms(ctx, io.student, io.labels, teacherOf(io).logits)
      : (io: StepIO) => {
        if (io.epoch === hp.probeEpochs - 1 && io.x.shape[0] >= 3) sims.push(stageSimilarity(io.student, teacherOf(io)));
        return { ce: crossEntropy(io.student.logits, io.labels) };
      };
    try {
      const r = ctx.probe(model, { epochs: hp.probeEpochs, trainRows: rows.train, validationRows: rows.validation, losses });
      const similarity = sims.length ? sims.reduce((a, b) => a + b, 0) / sims.length : 0;
      const value = hp.score === 'kd' ? r.top1 : (1 - hp.tgsaWeight) * (r.top1 / 100) + hp.tgsaWeight * similarity;
      return { score: value, top1: r.top1, seconds: r.seconds };
    } finally {
      model.dispose();
    }
  };

  const t0 = performance.now();
  const result = strategy({ space: CIFAR_SPACE, rng: ctx.rng.fork('search'), budget, measure, candidates: hp.candidates, score });
  const searchSeconds = (performance.now() - t0) / 1000;
  const best = result.best;
  const student = createSearchableModel(best.genome, { numClasses: ctx.numClasses, widthFactor, seed: seedOf(ctx, 'searched') });

  return {
    procedure: { student },
    parts: {
      search: {
        metrics: () => searchSummary(result.history, best, budget, searchSeconds),
        artifacts: (dir) => {
          const file = 'nas-search.json';
          writeFileSync(join(dir, file), JSON.stringify({
            method: methodId, score: hp.score, budget: { maxMacs: budget.maxMacs, maxParams: Number.isFinite(budget.maxParams) ? budget.maxParams : null },
            searchSeconds, best: best.key, candidates: result.history,
          }, null, 2));
          return [file];
        },
      },
    },
    losses: (io) => kdTerms(ctx, io.student, io.labels, io.teacher.logits),
  };
}

/** The numbers a search reports (all finite): cost, budget, the searched network and every candidate. */
export function searchSummary(history: readonly Candidate[], best: Candidate, budget: Budget, seconds: number): Record<string, number> {
  const out: Record<string, number> = {
    search_seconds: seconds,
    candidates: history.length,
    budget_macs: budget.maxMacs,
    searched_macs: best.macs,
    searched_params: best.params,
    searched_probe_top1: best.top1,
    searched_candidate: best.born,
  };
  if (Number.isFinite(budget.maxParams)) out.budget_params = budget.maxParams;
  for (const c of history) {
    out[`candidate_${c.born}_top1`] = c.top1;
    out[`candidate_${c.born}_score`] = c.score;
    out[`candidate_${c.born}_macs`] = c.macs;
    out[`candidate_${c.born}_params`] = c.params;
  }
  return out;
}
