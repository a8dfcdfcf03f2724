/**
 * iCaRL's exemplar memory of fixed total size K: after t classes have been seen each class keeps
 * m = floor(K / t) exemplars, the first m of its herding list (reducing keeps a prefix, Algorithm 5).
 * The memory is stored as split rows; `encode` / `decode` turn it into one number per training row
 * (herding rank + 1, 0 = not kept) so that a checkpoint can hold it as a fixed-size buffer.
 */

export class ExemplarMemory {
  private readonly byClass = new Map<number, number[]>();

  /** Exemplars each class keeps when `seenClasses` classes share a memory of `total` slots. */
  static perClass(total: number, seenClasses: number): number {
    if (!(seenClasses >= 1)) throw new Error(`ExemplarMemory.perClass: seenClasses must be >= 1, got ${seenClasses}`);
    return Math.floor(total / seenClasses);
  }

  /** Sets the exemplars of a class (split rows, herding order). */
  set(cls: number, rows: readonly number[]): void {
    this.byClass.set(cls, [...rows]);
  }

  /** Keeps the first `m` exemplars of every class. */
  reduce(m: number): void {
    for (const [cls, rows] of this.byClass) this.byClass.set(cls, rows.slice(0, Math.max(0, m)));
  }

  classes(): number[] {
    return [...this.byClass.keys()].sort((a, b) => a - b);
  }

  of(cls: number): readonly number[] {
    return this.byClass.get(cls) ?? [];
  }

  /** Every exemplar row, class by class. */
  rows(): Int32Array {
    return Int32Array.from(this.classes().flatMap((c) => this.of(c)));
  }

  get size(): number {
    return this.classes().reduce((n, c) => n + this.of(c).length, 0);
  }

  /** One value per training row: its herding rank + 1 within its class, 0 when not kept. */
  encode(trainSize: number): Float32Array {
    const code = new Float32Array(trainSize);
    for (const rows of this.byClass.values()) rows.forEach((row, rank) => (code[row] = rank + 1));
    return code;
  }

  /** The inverse of `encode`, given the label of each training row. */
  static decode(code: ArrayLike<number>, labels: ArrayLike<number>): ExemplarMemory {
    const ranked = new Map<number, [number, number][]>();
    for (let row = 0; row < code.length; row++) {
      if (code[row]! > 0) {
        const cls = labels[row]!;
        if (!ranked.has(cls)) ranked.set(cls, []);
        ranked.get(cls)!.push([code[row]!, row]);
      }
    }
    const memory = new ExemplarMemory();
    for (const [cls, list] of ranked) memory.set(cls, list.sort((a, b) => a[0] - b[0]).map(([, row]) => row));
    return memory;
  }
}
