/**
 * nasevo: regularised (ageing) evolution of a CIFAR student under a budget — Real, Aggarwal, Huang &
 * Le, "Regularized Evolution for Image Classifier Architecture Search", AAAI 2019 (arXiv:1802.01548),
 * Algorithm 1 — with candidates scored by short teacher-guided training, then the best retrained with
 * KD (the survey's NAS-based distillation, section 5.9).
 *
 * A population of `population` random genomes within the budget is scored; then, until `candidates`
 * genomes have been scored, `sample` members drawn at random form a tournament, its best is mutated
 * (one gene of one stage: depth, width, block or kernel), the child is scored, joins the population,
 * and the oldest member dies. The best genome ever scored is retrained from scratch with KD.
 *
 * Checked against the authors' code: google-research/google-research
 * evolution/regularized_evolution_algorithm/regularized_evolution.ipynb @ 67e6932 (Algorithm 1 on a
 * toy space): a random initial population, tournaments of S members drawn with replacement, the
 * best of the tournament mutated, the child appended and the oldest member removed, match. It has
 * no distillation loss.
 */
import { defineMethod } from '@kdbench/core';
import { regularizedEvolution } from './search.js';
import { SEARCH_DEFAULTS, SEARCH_DOCS, searchAndDistil } from './guided.js';

export const nasevo = defineMethod({
  id: 'nasevo',
  title: 'Teacher-guided regularised evolution + KD',
  paper: {
    authors: 'E. Real, A. Aggarwal, Y. Huang, Q. V. Le',
    title: 'Regularized Evolution for Image Classifier Architecture Search',
    venue: 'AAAI',
    year: 2019,
    url: 'https://arxiv.org/abs/1802.01548',
  },
  family: 'nas',
  knowledge: 'response',
  scheme: 'offline',
  teacher: 'required',
  teacherOutputs: 'logits',
  defaults: { ...SEARCH_DEFAULTS, population: 4, sample: 2 },
  hyperChoices: { score: ['kd', 'tgsa'] },
  hyperDocs: {
    ...SEARCH_DOCS,
    population: 'population size P (the paper: 100 on its 450-GPU budget)',
    sample: 'tournament size S: members drawn to choose a parent (the paper: 25)',
  },
  smallHyper: { candidates: 3, probeEpochs: 1, population: 2, sample: 2 },
  deviations:
    'Real et al. evolve NASNet cells with 20,000 candidates, each trained 25 epochs on CIFAR-10 and scored by validation accuracy; ' +
    'here the space is a small ResNet-style space under a MAC budget, 12 candidates (P = 4, S = 2) trained for probeEpochs ' +
    'epochs each, scored with the KD loss or the TG-SAGE similarity score, and mutations that break the budget are retried ' +
    '(a copy of the parent after 100 failures).',
  create: (ctx) => searchAndDistil(ctx, (opts) => regularizedEvolution({ ...opts, population: ctx.hp.population, sample: ctx.hp.sample }), 'nasevo'),
});
