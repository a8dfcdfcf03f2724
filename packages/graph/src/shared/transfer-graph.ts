/**
 * The knowledge transfer graph of Minami et al. (ACCV 2020; code github.com/somaminami/DCL @
 * b9c5cf1a19c25136524228a8106094e29cbc7986, lib/loss_func.py): networks are the vertices, every
 * ordered pair (s -> t) is an edge carrying a loss into t, and each edge has a gate.
 *
 * - Node 0 is the run's student; nodes 1..n-1 are listed in `nodes` (separated by spaces): `student`
 *   or a zoo id (a network trained from scratch with node 0), `teacher` (the run's teacher) or
 *   `model:seed` (a network pre-trained in the teacher store; `teacher:1` = the teacher's
 *   architecture with seed 1). Pre-trained nodes are fixed.
 * - `gates`: n rows separated by '/', row t listing the gates of the edges s -> t for s = 0..n-1,
 *   separated by spaces. The diagonal edge t -> t is the cross-entropy with labels, the others
 *   T^2 KL(softmax(z_s / T) || softmax(z_t / T)) with the source detached (KLLoss, T = 1).
 * - Gates (lib/loss_func.py; the code's fourth gate is `CorrectGate`, not a "correlation" gate):
 *   through: mean_b l_b; cutoff: no term (no gradient); linear: (epoch + progress) / epochs * mean_b l_b;
 *   correct: mean_b (l_b * [argmax z_s,b = y_b]) over the whole batch (on the diagonal the source is
 *   the label itself, so it equals through).
 * A fixed node's row must be all cutoff (nothing trains it), a trained node's row must not be (the
 * code loads a pre-trained network exactly when all of a node's gates are cutoff).
 */
import { ConfigError, rowCrossEntropy, rowKL, stopGradient, type ExtraTeacher, type LossTerms } from '@kdbench/core';
import { tf } from '@kdbench/engine';
import { listModels } from '@kdbench/models';

export const GATES = ['through', 'cutoff', 'linear', 'correct'] as const;
export type Gate = (typeof GATES)[number];

/** A vertex besides the student: trained from scratch with it (model '' = the student's architecture), or a pre-trained network (fixed). */
export type GraphNode =
  | { readonly kind: 'trained'; readonly model: string }
  | { readonly kind: 'teacher' }
  | { readonly kind: 'stored'; readonly model: string; readonly seed: number };

/** Nodes 1..n-1 from the `nodes` hyperparameter (`teacher:<seed>` resolved to the run's teacher architecture). */
export function parseNodes(method: string, text: string, teacherModel: string): GraphNode[] {
  const models = listModels().map((m) => m.id);
  const known = (name: string, entry: string) => {
    if (!models.includes(name.split('@')[0]!)) throw new ConfigError(`method '${method}': nodes entry '${entry}': unknown model '${name}'. Known models: ${models.join(', ')}`);
    return name;
  };
  const entries = text.trim().split(/\s+/).filter(Boolean);
  if (entries.length === 0) throw new ConfigError(`method '${method}': nodes lists no network besides the student (e.g. 'student teacher')`);
  return entries.map((entry): GraphNode => {
    if (entry === 'teacher') return { kind: 'teacher' };
    const stored = /^([A-Za-z0-9_@.]+):(\d+)$/.exec(entry);
    if (stored) {
      const model = stored[1] === 'teacher' ? teacherModel : known(stored[1]!, entry);
      return { kind: 'stored', model, seed: Number(stored[2]) };
    }
    if (!/^[A-Za-z0-9_@.]+$/.test(entry)) throw new ConfigError(`method '${method}': nodes entry '${entry}' is not a model id, 'student', 'teacher' or model:seed`);
    return { kind: 'trained', model: entry === 'student' ? '' : known(entry, entry) };
  });
}

/** The pre-trained nodes to load from the teacher store (`teacher` is the run's own), in node order. */
export function storedTeachers(nodes: readonly GraphNode[]): ExtraTeacher[] {
  return nodes.flatMap((n) => (n.kind === 'stored' ? [{ model: n.model, seed: n.seed }] : []));
}

/** Whether node i (0 = the student) is trained. */
export const isTrained = (nodes: readonly GraphNode[], i: number) => i === 0 || nodes[i - 1]!.kind === 'trained';

/** The gate matrix from the `gates` hyperparameter, checked against the nodes. */
export function parseGates(method: string, text: string, nodes: readonly GraphNode[]): Gate[][] {
  const n = nodes.length + 1;
  const rows = text.split('/').map((r) => r.trim().split(/\s+/).filter(Boolean));
  if (rows.length !== n || rows.some((r) => r.length !== n)) {
    throw new ConfigError(
      `method '${method}': gates must be ${n} rows separated by '/' of ${n} gates each (one per source node), ` +
        `got ${rows.length} row(s) of ${rows.map((r) => r.length).join(', ')}`,
    );
  }
  for (const [t, row] of rows.entries()) {
    for (const g of row) if (!(GATES as readonly string[]).includes(g)) throw new ConfigError(`method '${method}': gates row ${t}: '${g}' is not one of ${GATES.join(', ')}`);
  }
  const gates = rows as Gate[][];
  checkGates(method, gates, nodes);
  return gates;
}

/** A fixed node's row is all cutoff; a trained node's row has an open gate. */
export function checkGates(method: string, gates: readonly (readonly Gate[])[], nodes: readonly GraphNode[]): void {
  gates.forEach((row, t) => {
    const closed = row.every((g) => g === 'cutoff');
    if (isTrained(nodes, t) && closed) throw new ConfigError(`method '${method}': gates row ${t}: node ${t} is trained, so at least one of its gates must not be cutoff`);
    if (!isTrained(nodes, t) && !closed) throw new ConfigError(`method '${method}': gates row ${t}: node ${t} is pre-trained and fixed, so all its gates must be cutoff`);
  });
}

/** The gate matrix as the hyperparameter writes it. */
export const formatGates = (gates: readonly (readonly Gate[])[]) => gates.map((r) => r.join(' ')).join(' / ');

/** A gated edge: its per-sample loss reduced to a scalar, or null for cutoff. */
export function gated(gate: Gate, perSample: tf.Tensor1D, sourceCorrect: tf.Tensor1D | null, linearWeight: number): tf.Scalar | null {
  switch (gate) {
    case 'cutoff':
      return null;
    case 'through':
      return tf.mean(perSample) as tf.Scalar;
    case 'linear':
      return tf.mul(tf.mean(perSample), linearWeight) as tf.Scalar;
    case 'correct':
      return tf.mean(sourceCorrect ? tf.mul(perSample, sourceCorrect) : perSample) as tf.Scalar;
  }
}

/** 1 where argmax of the logits equals the label, else 0: [B], a constant (no gradient path; tfjs has none for Equal). */
export function correctRows(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  const hits = tf.tidy(() => tf.cast(tf.equal(tf.argMax(logits, 1), tf.cast(labels, 'int32')), 'float32').dataSync());
  return tf.tensor1d(hits);
}

/** Term name of an edge: node 0's plain (`ce`, `kl2`), the others' under `node<t>/`. */
const termName = (t: number, s: number) => `${t === 0 ? '' : `node${t}/`}${s === t ? 'ce' : `kl${s}`}`;

/**
 * Every open edge's loss for one batch: logits of every node (index = node), labels, the KL
 * temperature and the linear gates' weight ((epoch + progress) / epochs).
 */
export function graphLosses(gates: readonly (readonly Gate[])[], logits: readonly tf.Tensor2D[], labels: tf.Tensor1D, T: number, linearWeight: number): LossTerms {
  const terms: LossTerms = {};
  gates.forEach((row, t) => {
    row.forEach((gate, s) => {
      if (gate === 'cutoff') return;
      const perSample = s === t ? rowCrossEntropy(logits[t]!, labels) : rowKL(logits[t]!, stopGradient(logits[s]!), T);
      const correct = gate === 'correct' && s !== t ? correctRows(logits[s]!, labels) : null;
      terms[termName(t, s)] = gated(gate, perSample, correct, linearWeight)!;
    });
  });
  return terms;
}
