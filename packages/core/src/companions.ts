/**
 * Companions that are the batch's own records: each set gives every row another, independently
 * augmented view of its image (the trainer augments every companion set with its own draws).
 * Methods that train on several distortions of one batch (PCL's peers, DDGSD) return these from
 * `procedure.companions`.
 */

/** A companions hook returning `count` sets of the batch's own split rows (`trainIds`: ctx.trainIds). */
export function sameRows(trainIds: Int32Array, count: number): (ids: Int32Array) => Int32Array[] {
  if (!Number.isInteger(count) || count < 1) throw new Error(`sameRows: count must be a positive integer, got ${count}`);
  const rowOfId = new Map<number, number>();
  trainIds.forEach((id, row) => rowOfId.set(id, row));
  return (ids) => {
    const rows = Int32Array.from(ids, (id) => {
      const row = rowOfId.get(id);
      if (row === undefined) throw new Error(`sameRows: record ${id} is not in the training split`);
      return row;
    });
    return Array.from({ length: count }, () => rows);
  };
}
