/**
 * A temporal mean of variables (mean teacher, Tarvainen & Valpola, NIPS 2017; PCL's peer mean
 * teacher): after every optimiser step each average a takes a <- alpha_t a + (1 - alpha_t) v of its
 * source v, with alpha_t = min(1 - 1/(t + 1), decay) and t the number of updates before this one.
 * The first update copies the sources (alpha_0 = 0), and while 1 - 1/(t + 1) < decay the average is
 * the plain mean of the sources seen so far. The update count is a checkpointed buffer, so a resumed
 * run continues the same sequence.
 */
import { tf } from '@kdbench/engine';
import type { NamedVariable } from '@kdbench/models';
import type { Part } from '../method.js';

/** The decay of update t (0-based): min(1 - 1/(t + 1), decay). */
export function movingAverageDecay(t: number, decay: number): number {
  return Math.min(1 - 1 / (t + 1), decay);
}

/** Pairs every trainable variable of `source` with the variable of the same name in `average` (the same architecture). */
export function pairByName(source: readonly NamedVariable[], average: readonly NamedVariable[]): [tf.Variable, tf.Variable][] {
  const byName = new Map(average.map((nv) => [nv.name, nv.variable]));
  return source.filter((nv) => nv.trainable).map((nv) => {
    const a = byName.get(nv.name);
    if (!a || a.shape.join() !== nv.variable.shape.join()) throw new Error(`pairByName: no variable '${nv.name}' of shape [${nv.variable.shape}] to average into`);
    return [nv.variable, a];
  });
}

/** A part that keeps `average` variables at the temporal mean of their `source` variables, updated after every step. */
export class MovingAverage implements Part {
  private readonly count: tf.Variable;

  /** `pairs`: [source, average] variables; `name`: the checkpoint name of the update count. */
  constructor(private readonly name: string, private readonly pairs: readonly [tf.Variable, tf.Variable][], readonly decay: number) {
    if (!(decay >= 0 && decay < 1)) throw new Error(`MovingAverage ${name}: decay must be in [0, 1), got ${decay}`);
    if (pairs.length === 0) throw new Error(`MovingAverage ${name}: no variables to average`);
    this.count = tf.tidy(() => tf.variable(tf.scalar(0, 'float32'), false));
  }

  /** Updates done so far. */
  get updates(): number {
    return this.count.dataSync()[0]!;
  }

  buffers(): Record<string, tf.Variable> {
    return { [`${this.name}/updates`]: this.count };
  }

  afterStep(): void {
    const t = this.updates;
    const alpha = movingAverageDecay(t, this.decay);
    tf.tidy(() => {
      for (const [v, a] of this.pairs) a.assign(tf.add(tf.mul(a, alpha), tf.mul(v, 1 - alpha)));
      this.count.assign(tf.scalar(t + 1, 'float32'));
    });
  }

  dispose(): void {
    this.count.dispose();
  }
}
