/**
 * The two search strategies, over any score function (higher is better):
 * - random search: `candidates` genomes drawn uniformly within the budget, the best one kept;
 * - regularised evolution (Real, Aggarwal, Huang & Le, "Regularized Evolution for Image Classifier
 *   Architecture Search", AAAI 2019, Algorithm 1): a population of `population` random genomes; then,
 *   until `candidates` genomes have been scored, draw `sample` members of the population at random
 *   (with replacement), mutate the best of them, score the child, add it to the population and
 *   remove the oldest member (ageing), whatever its score. The answer is the best genome ever scored.
 */
import type { Rng } from '@kdbench/engine';
import { genomeKey, type SearchGenome } from '@kdbench/models';
import { mutateGenome, sampleGenome, type Budget, type Measure, type SearchSpace } from './space.js';

export interface Score {
  /** What the search maximises. */
  readonly score: number;
  /** Validation top-1 of the probe (%), reported beside the score. */
  readonly top1: number;
  readonly seconds: number;
}

export interface Candidate extends Score {
  readonly genome: SearchGenome;
  readonly key: string;
  readonly params: number;
  readonly macs: number;
  /** 0-based order in which the candidate was scored (its age). */
  readonly born: number;
}

export interface SearchOptions {
  readonly space: SearchSpace;
  readonly rng: Rng;
  readonly budget: Budget;
  readonly measure: Measure;
  /** Genomes scored in all. */
  readonly candidates: number;
  readonly score: (g: SearchGenome, born: number) => Score;
}

export interface SearchResult {
  /** Every scored candidate, in order. */
  readonly history: Candidate[];
  readonly best: Candidate;
  /** The population at the end (evolution only). */
  readonly population?: Candidate[];
}

function scoreOne(opts: SearchOptions, genome: SearchGenome, born: number): Candidate {
  const counts = opts.measure(genome);
  return { ...opts.score(genome, born), genome, key: genomeKey(genome), params: counts.params, macs: counts.macs, born };
}

function bestOf(cs: readonly Candidate[]): Candidate {
  return cs.reduce((a, b) => (b.score > a.score ? b : a));
}

function checkCount(name: string, n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got ${n}`);
}

export function randomSearch(opts: SearchOptions): SearchResult {
  checkCount('candidates', opts.candidates);
  const history: Candidate[] = [];
  for (let i = 0; i < opts.candidates; i++) {
    history.push(scoreOne(opts, sampleGenome(opts.space, opts.rng, opts.budget, opts.measure), i));
  }
  return { history, best: bestOf(history) };
}

export function regularizedEvolution(opts: SearchOptions & { population: number; sample: number }): SearchResult {
  checkCount('candidates', opts.candidates);
  checkCount('population', opts.population);
  checkCount('sample', opts.sample);
  const population: Candidate[] = [];
  const history: Candidate[] = [];
  while (population.length < opts.population && history.length < opts.candidates) {
    const c = scoreOne(opts, sampleGenome(opts.space, opts.rng, opts.budget, opts.measure), history.length);
    population.push(c);
    history.push(c);
  }
  while (history.length < opts.candidates) {
    const tournament = Array.from({ length: opts.sample }, () => population[opts.rng.int(population.length)]!);
    const parent = bestOf(tournament);
    const child = scoreOne(opts, mutateGenome(parent.genome, opts.space, opts.rng, opts.budget, opts.measure), history.length);
    population.push(child);
    history.push(child);
    population.shift(); // ageing: the oldest member dies
  }
  return { history, best: bestOf(history), population };
}
