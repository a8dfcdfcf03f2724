/**
 * One row per finished run: the results schema every results file, export and report reads.
 */
export interface ResultRow {
  run_id: string;
  method: string;
  family: string;
  knowledge: string;
  scheme: string;
  dataset: string;
  /** 'test' or 'holdout', and the human description of the evaluation split. */
  split: string;
  split_description: string;
  teacher: string;
  student: string;
  protocol: string;
  protocol_label: string;
  seed: number;
  epochs: number;
  best_top1: number;
  best_top5: number;
  best_epoch: number;
  last_top1: number;
  last_top5: number;
  wall_seconds: number;
  train_seconds: number;
  images_per_second: number;
  backend: string;
  backend_reason: string;
  teacher_hash: string;
  teacher_top1: number | null;
  student_params: number;
  student_flops: number;
  git_commit: string;
  date: string;
  /** JSON: the method's resolved hyperparameters. */
  hyperparameters: string;
  /**
   * JSON: protocol settings, per-epoch history, extra accuracies, `trainImages` (training split size)
   * and `provenance` ({ commit, dirty, diff, backend, kernels }: src/provenance.ts). Both are absent
   * from rows written before them; readers derive them (the report from git_commit and backend).
   */
  details: string;
}

export type ColumnType = 'utf8' | 'int32' | 'float64';

export const RESULT_COLUMNS: Record<keyof ResultRow, ColumnType> = {
  run_id: 'utf8', method: 'utf8', family: 'utf8', knowledge: 'utf8', scheme: 'utf8', dataset: 'utf8',
  split: 'utf8', split_description: 'utf8', teacher: 'utf8', student: 'utf8', protocol: 'utf8',
  protocol_label: 'utf8', seed: 'int32', epochs: 'int32', best_top1: 'float64', best_top5: 'float64',
  best_epoch: 'int32', last_top1: 'float64', last_top5: 'float64', wall_seconds: 'float64',
  train_seconds: 'float64', images_per_second: 'float64', backend: 'utf8', backend_reason: 'utf8',
  teacher_hash: 'utf8', teacher_top1: 'float64', student_params: 'int32', student_flops: 'float64',
  git_commit: 'utf8', date: 'utf8', hyperparameters: 'utf8', details: 'utf8',
};
