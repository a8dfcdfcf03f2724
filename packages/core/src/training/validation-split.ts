/**
 * The validation rows candidates are scored on, carved from the training split: a seeded,
 * class-balanced fraction of each class (at least one record per class), the rest for the probe's
 * training. The evaluation split is never touched by the search.
 */
import type { Rng } from '@kdbench/engine';

export function carveValidation(labels: ArrayLike<number>, fraction: number, rng: Rng): { train: Int32Array; validation: Int32Array } {
  if (!(fraction > 0 && fraction < 1)) throw new Error(`validation fraction must be in (0, 1), got ${fraction}`);
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i]!;
    if (!byClass.has(c)) byClass.set(c, []);
    byClass.get(c)!.push(i);
  }
  const validation: number[] = [];
  for (const c of [...byClass.keys()].sort((a, b) => a - b)) {
    const rows = rng.shuffle([...byClass.get(c)!]) as number[];
    if (rows.length < 2) throw new Error(`class ${c} has ${rows.length} training record(s): too few to carve a validation split`);
    validation.push(...rows.slice(0, Math.min(rows.length - 1, Math.max(1, Math.round(fraction * rows.length)))));
  }
  const held = new Set(validation);
  const train = Array.from({ length: labels.length }, (_, i) => i).filter((i) => !held.has(i));
  return { train: Int32Array.from(train), validation: Int32Array.from(validation.sort((a, b) => a - b)) };
}
