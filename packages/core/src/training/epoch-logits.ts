/**
 * One teacher's logits over one epoch of one data stream, served from the teacher-output cache
 * when that epoch is stored, or collected batch by batch (and stored at the end of the epoch) when
 * it is not. The trainer keeps one per teacher: the run's teacher and each extra teacher.
 */
import { tf } from '@kdbench/engine';
import type { ForwardResult } from '@kdbench/models';

export interface TeacherLogitsCache {
  read(seed: number, epoch: number): { values: Float32Array; classes: number } | undefined;
  write(seed: number, epoch: number, values: Float32Array, classes: number): void;
}

/** A ForwardResult holding only logits; reading features from it is a method-declaration bug. */
export function logitsOnly(logits: tf.Tensor2D): ForwardResult {
  const fail = (): never => {
    throw new Error("teacher features requested from the teacher-output cache: a method declaring teacherOutputs: 'logits' may read only teacher logits");
  };
  return { logits, get features() { return fail(); }, get embedding() { return fail(); } };
}

export class EpochLogits {
  private readonly stored?: { values: Float32Array; classes: number };
  private readonly collected: Float32Array[] = [];
  private classes = 0;
  private row = 0;

  constructor(private readonly cache: TeacherLogitsCache | undefined, private readonly seed: number, private readonly epoch: number) {
    this.stored = cache?.read(seed, epoch);
  }

  /** The epoch is served from the cache. */
  get cached(): boolean {
    return this.stored !== undefined;
  }

  /** The epoch's logits are being collected for the cache. */
  get collecting(): boolean {
    return this.cache !== undefined && this.stored === undefined;
  }

  /** The stored logits of the next `size` rows (a tensor, inside the caller's tidy), if cached. */
  next(size: number): ForwardResult | undefined {
    if (!this.stored) return undefined;
    const { values, classes } = this.stored;
    const slice = values.subarray(this.row * classes, (this.row + size) * classes);
    this.row += size;
    return logitsOnly(tf.tensor2d(slice, [size, classes], 'float32'));
  }

  /** Records a batch's computed logits when collecting. */
  collect(logits: tf.Tensor2D): void {
    if (!this.collecting) return;
    this.classes = logits.shape[1];
    this.collected.push(new Float32Array(logits.dataSync()));
  }

  /** Stores the collected epoch (every batch of it must have been collected). */
  finish(): void {
    if (!this.collecting || this.collected.length === 0) return;
    const all = new Float32Array(this.collected.reduce((n, c) => n + c.length, 0));
    this.collected.reduce((offset, c) => (all.set(c, offset), offset + c.length), 0);
    this.cache!.write(this.seed, this.epoch, all, this.classes);
  }
}
