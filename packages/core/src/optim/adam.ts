/**
 * Adam (Kingma & Ba, ICLR 2015) in PyTorch's formulation, with optional L2 weight decay added to
 * the gradient (torch.optim.Adam's weight_decay): the optimiser GAN-style players (generators,
 * discriminators) use in the adversarial and data-free papers.
 *   g' = g + wd*w; m = b1*m + (1-b1)*g'; v = b2*v + (1-b2)*g'^2;
 *   w = w - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
 * The step count t is kept per weight (a weight skipped by a step is not advanced).
 */
import { tf } from '@kdbench/engine';
import type { Optimizer } from './optimizer.js';

export interface AdamOptions {
  beta1: number;
  beta2: number;
  eps?: number;
  weightDecay?: number;
}

interface Slots {
  m: tf.Variable;
  v: tf.Variable;
  /** Steps taken, as a 1-element variable so it is checkpointed with the slots. */
  t: tf.Variable;
}

export class Adam implements Optimizer {
  private readonly slots = new Map<tf.Variable, Slots>();
  private readonly eps: number;
  private readonly weightDecay: number;

  constructor(private readonly opts: AdamOptions) {
    for (const k of ['beta1', 'beta2'] as const) {
      if (!(opts[k] >= 0 && opts[k] < 1)) throw new Error(`Adam ${k} must be in [0, 1), got ${opts[k]}`);
    }
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0;
    if (!(this.weightDecay >= 0)) throw new Error(`weight decay must be >= 0, got ${this.weightDecay}`);
  }

  apply(lr: number, variables: tf.Variable[], grads: Record<string, tf.Tensor>): void {
    const { beta1: b1, beta2: b2 } = this.opts;
    tf.tidy(() => {
      for (const w of variables) {
        const g0 = grads[w.name];
        if (!g0) continue;
        const g = this.weightDecay > 0 ? tf.add(g0, tf.mul(w, this.weightDecay)) : g0;
        const s = this.slotsOf(w);
        const t = s.t.dataSync()[0]! + 1;
        s.t.assign(tf.tensor1d([t]));
        s.m.assign(tf.add(tf.mul(s.m, b1), tf.mul(g, 1 - b1)));
        s.v.assign(tf.add(tf.mul(s.v, b2), tf.mul(tf.square(g), 1 - b2)));
        const mHat = tf.div(s.m, 1 - b1 ** t);
        const vHat = tf.div(s.v, 1 - b2 ** t);
        w.assign(tf.sub(w, tf.mul(tf.div(mHat, tf.add(tf.sqrt(vHat), this.eps)), lr)));
      }
    });
  }

  private slotsOf(w: tf.Variable): Slots {
    let s = this.slots.get(w);
    if (!s) {
      s = { m: tf.variable(tf.zerosLike(w), false), v: tf.variable(tf.zerosLike(w), false), t: tf.variable(tf.zeros([1]), false) };
      this.slots.set(w, s);
    }
    return s;
  }

  state(prefix: string, nameOf: (w: tf.Variable) => string): { name: string; variable: tf.Variable }[] {
    return [...this.slots.entries()].flatMap(([w, s]) => [
      { name: `${prefix}${nameOf(w)}#m`, variable: s.m },
      { name: `${prefix}${nameOf(w)}#v`, variable: s.v },
      { name: `${prefix}${nameOf(w)}#t`, variable: s.t },
    ]);
  }

  load(prefix: string, variables: tf.Variable[], nameOf: (w: tf.Variable) => string, values: Map<string, tf.Tensor>): void {
    for (const w of variables) {
      const name = prefix + nameOf(w);
      const m = values.get(`${name}#m`);
      const v = values.get(`${name}#v`);
      const t = values.get(`${name}#t`);
      if (!m || !v || !t) continue;
      const s = this.slotsOf(w);
      s.m.assign(m);
      s.v.assign(v);
      s.t.assign(t);
    }
  }

  dispose(): void {
    for (const s of this.slots.values()) tf.dispose([s.m, s.v, s.t]);
    this.slots.clear();
  }
}
