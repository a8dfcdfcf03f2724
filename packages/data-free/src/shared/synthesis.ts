/**
 * Bookkeeping every data-free method reports (survey 5.6: "report the synthesis time"): the seconds
 * spent synthesising inputs and the number of images synthesised, kept in a 2-element buffer so
 * that a resumed run continues the counts; and the method's image source, from which the
 * `synthesis` part writes `synthesis.png` (a grid of synthesised images) for the report.
 *
 * Synthesis time is the wall time from the start of a synthesis player's loss (its forward pass)
 * to the next call into the method (the student step's `syntheticBatch` or `losses`): that is the
 * player's forward, backward and optimiser update; plus the time of `syntheticBatch` itself.
 */
import type { MethodInstance, Part } from '@kdbench/core';
import type { DatasetId } from '@kdbench/data';
import { tf } from '@kdbench/engine';
import { synthesisArtifact, type ImageSource } from '../png.js';

/**
 * The part every data-free method declares as `synthesis`: the meter (checkpointed as the buffer
 * `synthesis`), its metrics (`synthesis_seconds`, `images_generated`) and the `synthesis.png` artifact.
 */
export class Synthesis implements Part, ImageSource {
  readonly meter = new SynthesisMeter();

  constructor(private readonly opts: { samples(n: number): tf.Tensor4D; dataset: DatasetId }) {}

  /** n synthesised images in the normalised input space, [n, 32, 32, 3] (the caller disposes them). */
  samples(n: number): tf.Tensor4D {
    return this.opts.samples(n);
  }

  buffers(): Record<string, tf.Variable> {
    return { synthesis: this.meter.counts };
  }

  metrics(): Record<string, number> {
    return this.meter.report();
  }

  artifacts(dir: string): string[] {
    return [synthesisArtifact(this, dir, this.opts.dataset)];
  }

  dispose(): void {
    this.meter.dispose();
  }
}

/** The `synthesis` part of a data-free method instance. */
export function synthesisOf(instance: MethodInstance): Synthesis {
  const part = instance.parts?.synthesis;
  if (!(part instanceof Synthesis)) throw new Error('this method instance synthesises no images (it has no synthesis part)');
  return part;
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

  /** The metrics: `synthesis_seconds`, `images_generated`. */
  report(): Record<string, number> {
    this.close();
    this.load();
    return { synthesis_seconds: Math.round(this.seconds * 1000) / 1000, images_generated: this.images };
  }

  dispose(): void {
    this.counts.dispose();
  }
}
