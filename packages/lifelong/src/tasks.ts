/**
 * Class-incremental task splits: a seeded order of the classes, cut into equal consecutive tasks
 * (CIFAR-10: 5 tasks of 2 classes; CIFAR-100: 10 tasks of 10 classes), and the rows of a split
 * that belong to a set of classes.
 */
import { Rng } from '@kdbench/engine';

/** A seeded permutation of 0..numClasses-1 (iCaRL shuffles the classes once with a fixed seed). */
export function classOrder(numClasses: number, seed: number): number[] {
  if (!Number.isInteger(numClasses) || numClasses < 1) throw new Error(`classOrder: numClasses must be a positive integer, got ${numClasses}`);
  return new Rng(seed).shuffle(Array.from({ length: numClasses }, (_, i) => i)) as number[];
}

/** The standard number of tasks for a dataset: 5 on CIFAR-10, 10 on CIFAR-100 (10 classes each otherwise). */
export function defaultTasks(numClasses: number): number {
  return numClasses === 10 ? 5 : Math.max(1, Math.round(numClasses / 10));
}

/** Cuts a class order into `tasks` consecutive groups of equal size. */
export function taskClasses(order: readonly number[], tasks: number): number[][] {
  if (!Number.isInteger(tasks) || tasks < 1) throw new Error(`taskClasses: tasks must be a positive integer, got ${tasks}`);
  if (order.length % tasks !== 0) throw new Error(`taskClasses: ${order.length} classes cannot be cut into ${tasks} equal tasks`);
  const size = order.length / tasks;
  return Array.from({ length: tasks }, (_, t) => order.slice(t * size, (t + 1) * size));
}

/** Rows (indices into `labels`) whose label is one of `classes`, in split order. */
export function rowsOfClasses(labels: ArrayLike<number>, classes: readonly number[]): Int32Array {
  const want = new Set(classes);
  const out: number[] = [];
  for (let i = 0; i < labels.length; i++) if (want.has(labels[i]!)) out.push(i);
  return Int32Array.from(out);
}
