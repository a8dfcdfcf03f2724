/**
 * Bookkeeping every data-free method reports (survey 5.6: "report the synthesis time"): the seconds
 * spent synthesising inputs and the number of images synthesised, kept in a 2-element buffer so
 * that a resumed run continues the counts; and the `synthesisSamples` hook through which
 * `saveSynthesisGrid` draws images for the report.
 *
 * Synthesis time is the wall time from the start of a synthesis player's loss (its forward pass)
 * to the next call into the method (the student step's `syntheticBatch` or `losses`): that is the
 * player's forward, backward and optimiser update; plus the time of `syntheticBatch` itself.
 */
import type { MethodInstance } from '@kdbench/core';
import { tf } from '@kdbench/engine';

/** A data-free method instance: also draws images for the synthesis grid. */
export interface DataFreeInstance extends MethodInstance {
  /** n synthesised images in the normalised input space, [n, 32, 32, 3] (the caller disposes them). */
  synthesisSamples(n: number): tf.Tensor4D;
}

export class SynthesisMeter {
  /** [seconds, images]. */
  readonly counts = tf.variable(tf.zeros([2]), false);
  private openedAt: number | null = null;
  private seconds = 0;
  private images = 0;
  private loaded = false;

  private load(): void {
    if (this.loaded) return;
    const [s, n] = this.counts.dataSync();
    this.seconds = s!;
    this.images = n!;
    this.loaded = true;
  }

  /** Marks the start of a synthesis step (a player's loss); closed by the next `close()`. */
  open(): void {
    this.load();
    if (this.openedAt === null) this.openedAt = performance.now();
  }

  /** Ends an open synthesis step, if any. */
  close(): void {
    if (this.openedAt === null) return;
    this.seconds += (performance.now() - this.openedAt) / 1000;
    this.openedAt = null;
    this.flush();
  }

  /** Times `fn` as synthesis and counts `images` synthesised images. */
  time<T>(images: number, fn: () => T): T {
    this.load();
    const t0 = performance.now();
    try {
      return fn();
    } finally {
      this.seconds += (performance.now() - t0) / 1000;
      this.images += images;
      this.flush();
    }
  }

  /** Counts images synthesised outside `time` (e.g. by a player's own forward pass). */
  count(images: number): void {
    this.load();
    this.images += images;
    this.flush();
  }

  private flush(): void {
    tf.tidy(() => this.counts.assign(tf.tensor1d([this.seconds, this.images])));
  }

  /** What extraAccuracies reports: `synthesis_seconds`, `images_generated`. */
  report(): Record<string, number> {
    this.close();
    this.load();
    return { synthesis_seconds: Math.round(this.seconds * 1000) / 1000, images_generated: this.images };
  }

  dispose(): void {
    this.counts.dispose();
  }
}
