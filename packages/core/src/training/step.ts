/**
 * One training step on one batch, as the trainer takes it (and the family tests, which call this
 * module rather than a copy of it): the teacher's outputs (from the teacher-output cache, else a
 * forward pass in eval mode), then each player's step on this batch (every `every`-th batch),
 * then the stage's step, each an optimiser update of its own variables on the sum of its loss
 * terms (with a stage's `gradientCap`, one term's gradient capped by the others'); then the parts' `afterStep`. Returns every logged value: the stage's terms, each player's
 * as `<player>/<term>`, and `total` (the stage's sum).
 */
import { tf } from '@kdbench/engine';
import type { ForwardResult, Model } from '@kdbench/models';
import type { GradientCap, LossTerms, Player, StepIO } from '../method.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { EpochLogits } from './epoch-logits.js';
import { makeStepIO, type DataAccess } from './step-io.js';

export interface StepBatch {
  x: tf.Tensor4D;
  /** The labels; undefined for the synthetic batches of a data-free method. */
  labels?: tf.Tensor1D;
  ids: Int32Array;
  /** Index of the batch in its epoch, the epoch (0-based) and the fraction of the stage done. */
  step: number;
  epoch: number;
  progress: number;
  /** The companions hook's partner sets of this batch (augmented), in order. */
  companions?: StepIO['companions'];
}

/** An optimiser update of `variables` on `losses`, at rate `lr`. */
export interface Update {
  /** Who updates, for messages: "stage 'main'", "player 'generator'". */
  readonly name: string;
  variables(): tf.Variable[];
  losses(io: StepIO): LossTerms;
  readonly optimizer: Optimizer;
  readonly lr: number;
  readonly gradientCap?: GradientCap;
}

export interface StepSetup {
  student: Model;
  teacher?: Model;
  teachers?: readonly Model[];
  data: DataAccess;
  /** The stage's update; its name (`stage` of StepIO) is the stage's. */
  stage: Update & { stageName: string };
  players: readonly (Update & { player: Player })[];
  /** The teacher-output cache of this epoch for the run's teacher and each extra teacher. */
  teacherLogits?: EpochLogits;
  teachersLogits?: readonly EpochLogits[];
  afterStep?(): void;
}

/** Plays one batch; returns the logged loss values. */
export function trainStep(s: StepSetup, batch: StepBatch): Record<string, number> {
  const out: Record<string, number> = {};
  tf.tidy(() => {
    const teacher = teacherOutput(s, batch);
    const teachersOut = extraTeacherOutputs(s, batch);
    const io = (keepRunningStats = false) => makeStepIO({
      x: batch.x, labels: batch.labels, ids: batch.ids, student: s.student, teacher, teachers: s.teachers, teachersOut,
      companions: batch.companions, epoch: batch.epoch, progress: batch.progress, step: batch.step, stage: s.stage.stageName,
      data: s.data, synthetic: batch.labels === undefined, keepRunningStats,
    });
    for (const p of s.players) {
      if (batch.step % (p.player.every ?? 1) !== 0) continue;
      for (const [name, v] of Object.entries(optimize(p, io))) out[`${p.player.name}/${name}`] = v;
    }
    const cap = s.stage.gradientCap;
    const terms = cap ? optimizeCapped(s.stage, io, cap, batch.epoch) : optimize(s.stage, io);
    Object.assign(out, terms);
    out.total = Object.values(terms).reduce((a, v) => a + v, 0);
  });
  s.afterStep?.();
  return out;
}

/** The run's teacher on this batch: cached logits, or a forward pass (collected when the cache is filling). */
function teacherOutput(s: StepSetup, batch: StepBatch): ForwardResult | undefined {
  const size = batch.ids.length;
  let out = s.teacherLogits?.next(size);
  if (!out && s.teacher) {
    out = s.teacher.forward(batch.x, { training: false });
    s.teacherLogits?.collect(out.logits);
  }
  return out;
}

/** Extra teachers: all from the cache, or computed now when some are being collected, else left to first read. */
function extraTeacherOutputs(s: StepSetup, batch: StepBatch): ForwardResult[] | undefined {
  const caches = s.teachersLogits ?? [];
  const size = batch.ids.length;
  if (caches.length > 0 && caches.every((e) => e.cached)) return caches.map((e) => e.next(size)!);
  if (!caches.some((e) => e.collecting)) return undefined;
  const outs = s.teachers!.map((t, i) => caches[i]!.next(size) ?? t.forward(batch.x, { training: false }));
  outs.forEach((t, i) => caches[i]!.collect(t.logits));
  return outs;
}

/** Minimises the sum of the update's losses over its variables with one optimiser step; returns each term's value. */
function optimize(u: Update, io: () => StepIO): Record<string, number> {
  let termNames: string[] = [];
  let values: Float32Array | Int32Array | Uint8Array = new Float32Array(0);
  tf.tidy(() => {
    const vars = u.variables();
    const { value, grads } = tf.variableGrads(() => {
      const terms = u.losses(io());
      termNames = Object.keys(terms);
      if (termNames.length === 0) throw new Error(`${u.name} returned no loss terms`);
      const list = termNames.map((k) => terms[k]!);
      values = tf.stack(list).dataSync();
      return tf.addN(list) as tf.Scalar;
    }, vars);
    u.optimizer.apply(u.lr, vars, grads);
    tf.dispose([value, ...Object.values(grads)]);
  });
  return Object.fromEntries(termNames.map((k, i) => [k, values[i]!]));
}

/**
 * The update with one term's gradient capped per variable by the other terms' (GradientCap): the
 * other terms' gradients g_o, then the capped term's g_c from a second pass over the batch (the
 * student's running statistics untouched), then g_o + g_c * min(1, factor * |g_o| / |g_c|) per
 * variable (TensorFlow's clip_by_norm; a variable the other terms do not reach gets none of g_c).
 */
function optimizeCapped(u: Update, io: (keepRunningStats: boolean) => StepIO, cap: GradientCap, epoch: number): Record<string, number> {
  let termNames: string[] = [];
  let values: Float32Array | Int32Array | Uint8Array = new Float32Array(0);
  tf.tidy(() => {
    const vars = u.variables();
    const others = tf.variableGrads(() => {
      const terms = u.losses(io(false));
      termNames = Object.keys(terms);
      const rest = termNames.filter((k) => k !== cap.term);
      if (rest.length === termNames.length || rest.length === 0) {
        throw new Error(`${u.name}: its gradient cap needs the term '${cap.term}' and at least one other; its losses return ${termNames.join(', ') || 'none'}`);
      }
      values = tf.stack(termNames.map((k) => terms[k]!)).dataSync();
      return tf.addN(rest.map((k) => terms[k]!)) as tf.Scalar;
    }, vars);
    const capped = tf.variableGrads(() => u.losses(io(true))[cap.term]!, vars);
    const factor = cap.factor(epoch);
    const grads: Record<string, tf.Tensor> = {};
    for (const v of vars) {
      const g = others.grads[v.name];
      if (!g) continue;
      const c = capped.grads[v.name];
      if (!c) {
        grads[v.name] = g;
        continue;
      }
      const limit = tf.mul(tf.norm(g), factor);
      const scale = tf.div(limit, tf.maximum(tf.maximum(tf.norm(c), limit), 1e-30));
      grads[v.name] = tf.add(g, tf.mul(c, scale));
    }
    u.optimizer.apply(u.lr, vars, grads);
  });
  return Object.fromEntries(termNames.map((k, i) => [k, values[i]!]));
}
