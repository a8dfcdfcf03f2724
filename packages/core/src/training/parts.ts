/**
 * A method instance's state, walked once: its parts (trainable modules, buffers, per-epoch and
 * per-step hooks, metrics, artifacts, disposal) and its procedure's networks, players and student.
 * The trainer asks it for the main stage's variables, the checkpoint names and the hooks; the run
 * asks it for metrics and artifacts after training, and disposes it in a `finally`.
 */
import type { tf } from '@kdbench/engine';
import type { Model } from '@kdbench/models';
import type { Evaluate, MethodInstance, Part, Player } from '../method.js';

const unique = (vars: tf.Variable[]): tf.Variable[] => [...new Set(vars)];

export class PartSet {
  readonly parts: [string, Part][];
  readonly players: Player[];
  private disposed = false;

  /**
   * `defaultStudent`: the run's student (ctx.student); `runModels`: the run's teachers. The caller
   * owns them: a procedure may declare the teacher as a network (to train it), yet never disposes it.
   */
  constructor(readonly instance: MethodInstance, readonly defaultStudent?: Model, private readonly runModels: readonly Model[] = []) {
    this.parts = Object.entries(instance.parts ?? {});
    this.players = [...(instance.procedure?.players ?? [])];
  }

  /** The network trained in the main stage and evaluated as the student. */
  get student(): Model {
    const s = this.instance.procedure?.student ?? this.defaultStudent;
    if (!s) throw new Error('PartSet: no student (give the run\'s student)');
    return s;
  }

  /** The network scored as the student: the procedure's `deployed` network, else the trained student. */
  get evaluated(): Model {
    return this.instance.procedure?.deployed ?? this.student;
  }

  get networks(): [string, { model: Model; trainInMain: boolean }][] {
    return Object.entries(this.instance.procedure?.networks ?? {});
  }

  /** What the main stage optimises: the student, every part's trainable variables, networks trained in main. */
  mainVariables(): tf.Variable[] {
    return unique([
      ...this.student.trainableVariables(),
      ...this.parts.flatMap(([, p]) => p.trainableVariables?.() ?? []),
      ...this.networks.filter(([, n]) => n.trainInMain).flatMap(([, n]) => n.model.trainableVariables()),
    ]);
  }

  /** Every part's buffers under their own names (two parts may not use the same name). */
  buffers(): Record<string, tf.Variable> {
    const out: Record<string, tf.Variable> = {};
    for (const [name, p] of this.parts) {
      for (const [key, v] of Object.entries(p.buffers?.() ?? {})) {
        if (key in out) throw new Error(`parts declare the buffer '${key}' twice (again in part '${name}')`);
        out[key] = v;
      }
    }
    return out;
  }

  onEpochStart(epoch: number): void {
    for (const [, p] of this.parts) p.onEpochStart?.(epoch);
  }

  afterStep(): void {
    for (const [, p] of this.parts) p.afterStep?.();
  }

  /** Every part's metrics, merged (a name reported twice is an error). */
  metrics(evaluate: Evaluate): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, p] of this.parts) {
      for (const [key, v] of Object.entries(p.metrics?.(evaluate) ?? {})) {
        if (key in out) throw new Error(`parts report the metric '${key}' twice (again in part '${name}')`);
        out[key] = v;
      }
    }
    return out;
  }

  artifacts(dir: string): string[] {
    return this.parts.flatMap(([, p]) => p.artifacts?.(dir) ?? []);
  }

  /** Frees every part, every network and a procedure's own student and deployed network, once. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const [, p] of this.parts) p.dispose?.();
    const own = [this.instance.procedure?.student, this.instance.procedure?.deployed].filter((m): m is Model => m !== undefined);
    const models = new Set([...this.networks.map(([, n]) => n.model), ...own]);
    for (const m of [this.defaultStudent, ...this.runModels]) if (m) models.delete(m); // the run's models belong to the caller
    for (const m of models) m.dispose();
  }
}

/** Frees a method instance's parts, networks and own student (not the run's student and teachers). */
export function disposeInstance(instance: MethodInstance, student?: Model, teachers: readonly (Model | undefined)[] = []): void {
  new PartSet(instance, student, teachers.filter((t): t is Model => t !== undefined)).dispose();
}

/** A part that owns `items` (a player's discriminators or generator, a frozen copy): frees them when the run ends. */
export function owning(...items: ({ dispose(): void } | null | undefined)[]): Part {
  return { dispose: () => items.forEach((i) => i?.dispose()) };
}
