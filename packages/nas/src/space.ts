/**
 * The search space of CIFAR students and its budget: three stages, each with its depth (blocks),
 * width (output channels at width factor 1, from a per-stage list), block type (basic or bottleneck)
 * and kernel size (3 or 5); the network is `createSearchableModel` of @kdbench/models, whose
 * `genomeCounts` gives exact parameter and MAC counts without building it. resnet8 (16/32/64, one
 * basic 3x3 block per stage) is a point of the space.
 *
 * Sampling is uniform over the space, rejecting genomes over budget. Mutation, as in regularised
 * evolution (Real et al., AAAI 2019), changes one gene (a stage's depth, width, block or kernel) to
 * another of its values, drawn uniformly, retrying while the child is over budget; when no mutation
 * fits, the child is a copy of the parent (the paper's identity mutation).
 */
import type { Rng } from '@kdbench/engine';
import { genomeCounts, type SearchBlock, type SearchGenome, type SearchStage } from '@kdbench/models';

export interface SearchSpace {
  readonly depths: readonly number[];
  /** Width choices of each stage (their count is the number of stages). */
  readonly widths: readonly (readonly number[])[];
  readonly blocks: readonly SearchBlock[];
  readonly kernels: readonly number[];
}

export const CIFAR_SPACE: SearchSpace = {
  depths: [1, 2, 3],
  widths: [[8, 12, 16, 24, 32], [16, 24, 32, 48, 64], [32, 48, 64, 96, 128]],
  blocks: ['basic', 'bottleneck'],
  kernels: [3, 5],
};

export interface Budget {
  /** Multiply-accumulates of one 32x32 image (Infinity: no limit). */
  readonly maxMacs: number;
  readonly maxParams: number;
}

export interface Counts {
  readonly params: number;
  readonly macs: number;
}

/** How a genome is measured: exact counts for the run's classes and width factor. */
export type Measure = (g: SearchGenome) => Counts;

export function measureFor(numClasses: number, widthFactor: number): Measure {
  return (g) => genomeCounts(g, numClasses, widthFactor);
}

export function fits(c: Counts, b: Budget): boolean {
  return c.macs <= b.maxMacs && c.params <= b.maxParams;
}

/** Number of genomes in the space. */
export function spaceSize(space: SearchSpace): number {
  return space.widths.reduce((n, w) => n * space.depths.length * w.length * space.blocks.length * space.kernels.length, 1);
}

function pick<T>(rng: Rng, xs: readonly T[]): T {
  return xs[rng.int(xs.length)]!;
}

/** A uniformly drawn genome within the budget (rejection sampling; throws when none is found). */
export function sampleGenome(space: SearchSpace, rng: Rng, budget: Budget, measure: Measure, maxTries = 20000): SearchGenome {
  for (let i = 0; i < maxTries; i++) {
    const g: SearchGenome = {
      stages: space.widths.map((ws) => ({ depth: pick(rng, space.depths), width: pick(rng, ws), block: pick(rng, space.blocks), kernel: pick(rng, space.kernels) })),
    };
    if (fits(measure(g), budget)) return g;
  }
  throw new Error(`no genome of the search space fits the budget (${budget.maxMacs} MACs, ${budget.maxParams} parameters) after ${maxTries} draws`);
}

const GENES = ['depth', 'width', 'block', 'kernel'] as const;

/** Changes one gene of `parent` to another value; within the budget, else a copy of the parent. */
export function mutateGenome(parent: SearchGenome, space: SearchSpace, rng: Rng, budget: Budget, measure: Measure, maxTries = 100): SearchGenome {
  for (let i = 0; i < maxTries; i++) {
    const s = rng.int(parent.stages.length);
    const gene = pick(rng, GENES);
    const choices: readonly (number | string)[] = gene === 'depth' ? space.depths : gene === 'width' ? space.widths[s]! : gene === 'block' ? space.blocks : space.kernels;
    const others = choices.filter((v) => v !== parent.stages[s]![gene]);
    if (others.length === 0) continue;
    const stage = { ...parent.stages[s]!, [gene]: pick(rng, others) } as SearchStage;
    const child: SearchGenome = { stages: parent.stages.map((st, j) => (j === s ? stage : { ...st })) };
    if (fits(measure(child), budget)) return child;
  }
  return { stages: parent.stages.map((st) => ({ ...st })) };
}
