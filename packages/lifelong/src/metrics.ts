/**
 * Class-incremental metrics from the accuracies measured after each task.
 * - `seen[k]`: top-1 on the evaluation records of every class seen up to task k (the iCaRL curve);
 * - `perTask[k][j]` (j <= k): top-1 on the records of task j's classes after training task k.
 * Average incremental accuracy is the mean of `seen` over all tasks (Rebuffi et al., CVPR 2017);
 * last accuracy is `seen` after the final task; forgetting (Chaudhry et al., ECCV 2018) is the mean,
 * over the tasks before the last, of the best accuracy a task ever had before the final task minus
 * its accuracy after the final task.
 */

export interface IncrementalSummary {
  averageIncremental: number;
  last: number;
  forgetting: number;
}

export function incrementalSummary(seen: readonly number[], perTask: readonly (readonly number[])[]): IncrementalSummary {
  const T = seen.length;
  if (T === 0) throw new Error('incrementalSummary: no task has been evaluated');
  if (perTask.length !== T) throw new Error(`incrementalSummary: ${perTask.length} per-task rows for ${T} tasks`);
  perTask.forEach((row, k) => {
    if (row.length !== k + 1) throw new Error(`incrementalSummary: row ${k} has ${row.length} accuracies, expected ${k + 1}`);
  });
  const averageIncremental = seen.reduce((a, b) => a + b, 0) / T;
  const final = perTask[T - 1]!;
  let forgetting = 0;
  for (let j = 0; j < T - 1; j++) {
    let best = -Infinity;
    for (let k = j; k < T - 1; k++) best = Math.max(best, perTask[k]![j]!);
    forgetting += best - final[j]!;
  }
  return { averageIncremental, last: seen[T - 1]!, forgetting: T > 1 ? forgetting / (T - 1) : 0 };
}
