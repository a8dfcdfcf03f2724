/**
 * Parameter bookkeeping shared by every layer: a ParamStore owns the named tf.Variables of one
 * model (trainable weights and batch-norm running statistics), the seeded Rng their initial
 * values are drawn from, and the running multiply-accumulate count of the network for one
 * 32x32 image. A Scope is a dotted name prefix into a store ('layer1.0.conv1'), giving the
 * PyTorch-style stable names used by weight files.
 *
 * Initial values are built as Float32Arrays in JS from `Rng.fork(fullName)`, so a variable's
 * values depend only on the seed and its name: identical on every backend and independent of
 * construction order.
 */
import { tf, Rng } from '@kdbench/engine';
import type { NamedVariable } from '../types.js';

export class ParamStore {
  readonly entries: NamedVariable[] = [];
  private readonly names = new Set<string>();
  private readonly root: Rng;
  /** Multiply-accumulates of one forward pass of one 32x32 image, summed over layers. */
  macs = 0;
  /** Trainable parameters registered so far. */
  trainableParams = 0;
  private placeholder: tf.Variable | null = null;
  /** Variables of another network this store reuses (listed and counted here, freed by their owner). */
  private readonly borrowed = new Set<tf.Variable>();

  /**
   * `measureOnly`: the store counts parameters and MACs without drawing or allocating any values
   * (what `modelCounts` builds a net with); its variables are one shared placeholder scalar, so a
   * net built on it must never run.
   * `shared`: variables of another network, by name, that a layer asking for the same name reuses
   * instead of creating its own (layers shared between two networks).
   */
  constructor(seed: number, readonly measureOnly = false, private readonly shared: ReadonlyMap<string, tf.Variable> = new Map()) {
    this.root = new Rng(seed);
  }

  /** The shared variable named `name` (registered in this store), or null when none is shared under that name. */
  borrow(name: string, shape: number[], trainable: boolean): tf.Variable | null {
    const variable = this.shared.get(name);
    if (!variable) return null;
    if (variable.shape.join() !== shape.join()) {
      throw new Error(`ParamStore: shared variable '${name}' has shape [${variable.shape}], the layer needs [${shape}]`);
    }
    this.register(name, shape, trainable);
    this.entries.push({ name, variable, trainable });
    this.borrowed.add(variable);
    return variable;
  }

  /** Names of shared variables no layer asked for. */
  unusedShared(): string[] {
    return [...this.shared.keys()].filter((name) => !this.names.has(name));
  }

  /** A generator whose stream depends only on the seed and `name`. */
  rngFor(name: string): Rng {
    return this.root.fork(name);
  }

  add(name: string, shape: number[], values: Float32Array, trainable: boolean): tf.Variable {
    if (this.measureOnly) throw new Error(`ParamStore: '${name}' added with values to a measuring store`);
    const size = this.register(name, shape, trainable);
    if (values.length !== size) {
      throw new Error(`ParamStore: '${name}' has ${values.length} values for shape [${shape}]`);
    }
    // No tf name: tfjs variable names are global, and two models share our stable names.
    const variable = tf.tidy(() => tf.variable(tf.tensor(values, shape, 'float32'), trainable));
    this.entries.push({ name, variable, trainable });
    return variable;
  }

  /** In a measuring store: counts the variable and returns the shared placeholder. */
  measure(name: string, shape: number[], trainable: boolean): tf.Variable {
    if (!this.measureOnly) throw new Error(`ParamStore: '${name}' measured in a store that holds values`);
    this.register(name, shape, trainable);
    this.placeholder ??= tf.tidy(() => tf.variable(tf.scalar(0), false));
    return this.placeholder;
  }

  private register(name: string, shape: number[], trainable: boolean): number {
    if (this.names.has(name)) throw new Error(`ParamStore: duplicate variable name '${name}'`);
    const size = shape.reduce((a, b) => a * b, 1);
    this.names.add(name);
    if (trainable) this.trainableParams += size;
    return size;
  }

  dispose(): void {
    for (const e of this.entries) if (!this.borrowed.has(e.variable)) e.variable.dispose();
    this.borrowed.clear();
    this.placeholder?.dispose();
    this.placeholder = null;
    this.entries.length = 0;
    this.names.clear();
  }
}

export class Scope {
  constructor(
    readonly store: ParamStore,
    readonly prefix = '',
  ) {}

  child(name: string | number): Scope {
    return new Scope(this.store, this.qualify(String(name)));
  }

  qualify(name: string): string {
    return this.prefix ? `${this.prefix}.${name}` : name;
  }

  /** Registers `prefix.name`, filling it with `init(rng, size)` (or reusing the store's shared variable of that name). */
  variable(
    name: string,
    shape: number[],
    init: (rng: Rng, size: number) => Float32Array,
    trainable = true,
  ): tf.Variable {
    const full = this.qualify(name);
    if (this.store.measureOnly) return this.store.measure(full, shape, trainable);
    const shared = this.store.borrow(full, shape, trainable);
    if (shared) return shared;
    const size = shape.reduce((a, b) => a * b, 1);
    return this.store.add(full, shape, init(this.store.rngFor(full), size), trainable);
  }

  addMacs(n: number): void {
    this.store.macs += n;
  }
}

/** Spatial size of an NHWC activation. */
export interface Size2d {
  readonly h: number;
  readonly w: number;
}
