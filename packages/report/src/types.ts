/**
 * What the report reads. The report takes rows and method metadata as input and never opens the
 * Arrow file itself: the harness (which owns the results store and the registry) reads them and
 * calls the report, so the dependency goes one way, harness -> report -> core. `ReportRow` is the
 * subset of the harness's `ResultRow` the report uses; a `ResultRow` is assignable to it (checked
 * where the harness calls the report), and extra columns are kept in the CSV/JSON export.
 */
import type { MethodDefinition } from '@kdbench/core';

export interface ReportRow {
  run_id: string;
  method: string;
  family: string;
  knowledge: string;
  scheme: string;
  dataset: string;
  split: string;
  split_description: string;
  teacher: string;
  student: string;
  protocol: string;
  protocol_label: string;
  seed: number;
  epochs: number;
  best_top1: number;
  last_top1: number;
  train_seconds: number;
  images_per_second: number;
  backend: string;
  teacher_top1: number | null;
  /** sha256 of the stored teacher (tells teachers of one architecture apart). */
  teacher_hash?: string;
  student_params: number;
  student_flops: number;
  git_commit: string;
  date: string;
  /** JSON: protocol settings (trainPerClass, widthFactor, ...), history. */
  details: string;
  /** JSON: the run's resolved hyperparameters; runs differing from the method's defaults form a variant. */
  hyperparameters?: string;
}

/**
 * Method metadata as the registry holds it (a MethodDefinition is one). Defaults, hyperDocs,
 * deviations and teacher are optional: with them the method page shows hyperparameters and deviations.
 */
export type MethodMeta = Pick<MethodDefinition, 'id' | 'title' | 'family' | 'knowledge' | 'scheme' | 'paper'>
  & Partial<Pick<MethodDefinition, 'defaults' | 'hyperDocs' | 'deviations' | 'teacher' | 'revision'>>;

/** Which accuracy the report ranks by: the last epoch (CRD's convention, the default) or the best epoch. */
export type Metric = 'last_top1' | 'best_top1';
