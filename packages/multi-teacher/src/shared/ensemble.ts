/**
 * Pieces shared by the multi-teacher methods (candidates for @kdbench/core once a second family
 * needs them):
 * - `parseTeachers` / `extraTeachersFrom`: the `teachers` hyperparameter, a comma-separated list of
 *   `model:seed` (`teacher` standing for the run's teacher architecture), into ExtraTeacher entries;
 * - `ensembleOf` / `ensembleOutputs`: the run's teacher followed by the extra teachers (an extra
 *   teacher identical to the run's teacher, same architecture, seed and width, is skipped);
 * - `teacherAccuracies`: each teacher's and the ensemble's (averaged probabilities) top-1, for
 *   metrics, under `teacher:<model>:s<seed>` and `ensemble`;
 * - `rowKL`, `rowCrossEntropy`: per-row losses (core's, re-exported);
 */
import { ConfigError, softTargetKL, type ExtraTeacher, type MethodContext, type StepIO } from '@kdbench/core';
import { tf } from '@kdbench/engine';
import { listModels, type ForwardResult, type Model } from '@kdbench/models';

export { rowCrossEntropy, rowKL } from '@kdbench/core';

/**
 * `teachers` hyperparameter -> extra teachers. Entries are `model:seed` (model a zoo id or `teacher`
 * for the run's teacher architecture, seed a non-negative integer), separated by commas; '' is none.
 */
export function parseTeachers(method: string, text: string, runTeacher: string): ExtraTeacher[] {
  const models = listModels().map((m) => m.id);
  const out: ExtraTeacher[] = [];
  for (const raw of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([A-Za-z0-9_]+):(\d+)$/.exec(raw);
    if (!m) throw new ConfigError(`method '${method}': teachers entry '${raw}' is not model:seed (e.g. resnet32:1 or teacher:2)`);
    const model = m[1] === 'teacher' ? runTeacher : m[1]!;
    if (!models.includes(model)) throw new ConfigError(`method '${method}': teachers entry '${raw}': unknown model '${model}'. Known models: ${models.join(', ')}`);
    const seed = Number(m[2]);
    if (out.some((t) => t.model === model && t.seed === seed)) throw new ConfigError(`method '${method}': teachers lists ${model}:${seed} twice`);
    out.push({ model, seed });
  }
  return out;
}

/** The run's teacher and the extra teachers, skipping an extra teacher identical to the run's. */
export function ensembleOf(ctx: MethodContext<any, 'required'>): { models: Model[]; extra: number[] } {
  const same = (a: Model, b: Model) => a.id === b.id && a.options.seed === b.options.seed && a.options.widthFactor === b.options.widthFactor;
  const extra: number[] = [];
  (ctx.teachers ?? []).forEach((t, i) => {
    if (!same(t, ctx.teacher) && !extra.some((j) => same(ctx.teachers[j]!, t))) extra.push(i);
  });
  return { models: [ctx.teacher, ...extra.map((i) => ctx.teachers[i]!)], extra };
}

/** Forward passes of the ensemble members for a batch: io.teacher, then the kept io.teachers. */
export function ensembleOutputs(io: StepIO<'required'>, extra: readonly number[], method: string): ForwardResult[] {
  if (extra.length === 0) return [io.teacher];
  const more = io.teachers;
  if (!more) throw new Error(`${method}: the step has no extra teacher outputs (io.teachers)`);
  return [io.teacher, ...extra.map((i) => more[i]!)];
}

/** Stable key of a teacher in the metrics. */
export function teacherKey(m: Model): string {
  return `teacher:${m.id}:s${m.options.seed}`;
}

/**
 * The ensemble as one network for evaluation: logits log(mean_k softmax(z_k)), whose argmax is the
 * prediction of the averaged class probabilities.
 */
export function averagedEnsemble(models: readonly Model[]): Model {
  const first = models[0]!;
  return {
    id: `ensemble(${models.map((m) => m.id).join(',')})`,
    options: first.options,
    forward: (x, opts) => tf.tidy(() => {
      const p = tf.addN(models.map((m) => tf.softmax(m.forward(x, { training: false, hooks: opts.hooks }).logits)));
      const logits = tf.log(tf.div(p, models.length)) as tf.Tensor2D;
      return { logits, features: [], embedding: logits } as unknown as tf.TensorContainer;
    }) as unknown as ForwardResult,
    trainableVariables: () => [],
    classifierVariables: () => [],
    namedVariables: () => [],
    paramCount: () => models.reduce((n, m) => n + m.paramCount(), 0),
    flops: () => models.reduce((n, m) => n + m.flops(), 0),
    featureShapes: () => [],
    dispose: () => {},
  };
}

/** Top-1 of every teacher and (with two or more) of their averaged-probability ensemble. */
export function teacherAccuracies(models: readonly Model[], evaluate: (m: Model) => { top1: number }): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of models) out[teacherKey(m)] = evaluate(m).top1;
  if (models.length > 1) out.ensemble = evaluate(averagedEnsemble(models)).top1;
  return out;
}

/**
 * T^2 * KL(p || softmax(s/T)) with p = mean_k softmax(t_k/T), the teachers' averaged soft targets,
 * batch-averaged: core's softTargetKL with teacher logits T * log(p) (softmax(log p) = p).
 */
export function averagedSoftTargetKL(student: tf.Tensor2D, teachers: readonly tf.Tensor2D[], T: number): tf.Scalar {
  return tf.tidy(() => {
    const p = tf.div(tf.addN(teachers.map((t) => tf.softmax(tf.div(t, T)))), teachers.length);
    return softTargetKL(student, tf.mul(tf.log(p), T) as tf.Tensor2D, T);
  });
}
