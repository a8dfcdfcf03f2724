/**
 * nasrandom: random search of a CIFAR student under a budget, scored by short teacher-guided
 * training, then the best retrained with KD — the baseline of architecture search (Li & Talwalkar,
 * "Random Search and Reproducibility for Neural Architecture Search", UAI 2019, show it is a strong
 * one), here with the teacher-guided scores of guided.ts.
 *
 * `candidates` genomes are drawn uniformly from CIFAR_SPACE within the budget (default: the MACs of
 * the run's hand-made student), each scored by `ctx.probe`; the best by score is retrained from
 * scratch with KD (T = 4, gamma = 0.1, alpha = 0.9, the CRD benchmark's KD settings).
 *
 * Li & Talwalkar's code (liamcli/randomNAS_release searchers/random_weight_share.py,
 * benchmarks/cnn/darts/darts_wrapper_discrete.py @ 6513a0a) samples DARTS cells uniformly and
 * scores them with shared weights; it has no distillation loss, so only the uniform sampling
 * corresponds. The KD of the retraining is core's softTargetKL, checked by the kd parity fixture.
 */
import { defineMethod } from '@kdbench/core';
import { randomSearch } from './search.js';
import { SEARCH_DEFAULTS, SEARCH_DOCS, searchAndDistil } from './guided.js';

export const nasrandom = defineMethod({
  id: 'nasrandom',
  title: 'Teacher-guided random architecture search + KD',
  paper: {
    authors: 'L. Li, A. Talwalkar',
    title: 'Random Search and Reproducibility for Neural Architecture Search',
    venue: 'UAI',
    year: 2019,
    url: 'https://arxiv.org/abs/1902.07638',
  },
  family: 'nas',
  knowledge: 'response',
  scheme: 'offline',
  teacher: 'required',
  teacherOutputs: 'logits',
  defaults: SEARCH_DEFAULTS,
  hyperChoices: { score: ['kd', 'tgsa'] },
  hyperDocs: SEARCH_DOCS,
  smallHyper: { candidates: 2, probeEpochs: 1 },
  deviations:
    'Li & Talwalkar evaluate random architectures of a cell-based space with weight sharing or full training; here each candidate ' +
    'of a small ResNet-style space is trained for probeEpochs epochs on 80% of the training split and scored on the other 20% ' +
    '(with the KD loss or the TG-SAGE similarity score), and the search budget is a candidate count, not GPU hours.',
  create: (ctx) => searchAndDistil(ctx, randomSearch, 'nasrandom'),
});
