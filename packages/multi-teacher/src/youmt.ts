/**
 * Multiple teachers in the output and the intermediate layers: S. You, C. Xu, C. Xu and D. Tao,
 * "Learning from Multiple Teacher Networks", KDD 2017 (https://doi.org/10.1145/3097983.3098135).
 *
 * Output layer: the teachers' averaged softened outputs (as `avgkd`). Intermediate layer: the
 * relative dissimilarity of examples. For a triplet (q_i, q_j, q_k) of batch images each teacher
 * votes for the one of q_j, q_k whose representation at the tapped layer is closer to q_i's; the
 * majority makes it the positive q+ (the other q-), and the student's representations must keep
 * that order with a margin:
 *   l(i, j, k) = max(0, d_s(q_i, q+) - d_s(q_i, q-) + delta),   d = squared Euclidean distance
 * of the flattened, L2-normalised feature maps (each network in its own space, so student and
 * teacher widths may differ and no regressor is needed). Triplets are every (i, j, k) of distinct
 * batch rows; ties of the vote (an even number of teachers split) are skipped.
 *   loss = gamma * CE + alpha * T^2 * KL(mean_k softmax(t_k/T) || softmax(s/T)) + beta * mean l
 * Defaults: KD terms as the CRD benchmark's KD; the tapped layer is stage 2 (the middle stage, the
 * guided layer of FitNet-style hints); delta and beta are ours (see deviations).
 *
 * No public code from the authors (searched: the code corpus for the paper's title and its
 * relative-dissimilarity loss).
 */
import { crossEntropy, defineMethod, l2NormalizeRows, flattenRows, pairwiseDistances, ConfigError } from '@kdbench/core';
import { tf } from '@kdbench/engine';
import type { ForwardResult } from '@kdbench/models';
import { averagedSoftTargetKL, ensembleOf, ensembleOutputs, parseTeachers, teacherAccuracies } from './shared/ensemble.js';
import { checkEnsembleSize, DEFAULT_TEACHERS, TEACHERS_DOC } from './shared/hyper.js';

/** Squared distances [B, B] between the flattened, L2-normalised rows of a feature map. */
function relativeDistances(f: tf.Tensor4D): tf.Tensor2D {
  return pairwiseDistances(l2NormalizeRows(flattenRows(f)), { squared: true });
}

/**
 * Mean triplet hinge over the voted triplets. `student` [B, B] and `teachers` K x [B, B] are
 * distance matrices; returns 0 when no triplet is decided (fewer than three rows, or all ties).
 */
export function votedTripletLoss(student: tf.Tensor2D, teachers: readonly tf.Tensor2D[], margin: number): tf.Scalar {
  return tf.tidy(() => {
    const b = student.shape[0];
    // diff[i, j, k] = d(i, j) - d(i, k): negative when j is closer to i than k
    const diff = (d: tf.Tensor2D) => tf.sub(tf.expandDims(d, 2), tf.expandDims(d, 1));
    const votes = tf.addN(teachers.map((t) => tf.neg(tf.sign(diff(t))))); // + : j closer, - : k closer
    const order = tf.sign(votes); // 0 on ties
    const i = tf.range(0, b, 1, 'int32');
    const ne = (a: tf.Tensor, c: tf.Tensor) => tf.cast(tf.notEqual(a, c), 'float32');
    const [ii, jj, kk] = [tf.reshape(i, [b, 1, 1]), tf.reshape(i, [1, b, 1]), tf.reshape(i, [1, 1, b])];
    const distinct = tf.mul(tf.mul(ne(ii, jj), ne(ii, kk)), ne(jj, kk));
    const mask = tf.mul(distinct, tf.abs(order));
    // order * (d_s(i, j) - d_s(i, k)) = d_s(i, q+) - d_s(i, q-)
    const hinge = tf.relu(tf.add(tf.mul(order, diff(student)), margin));
    const count = tf.sum(mask);
    return tf.div(tf.sum(tf.mul(hinge, mask)), tf.maximum(count, 1)) as tf.Scalar;
  });
}

function tapped(out: ForwardResult, layer: number, who: string): tf.Tensor4D {
  const f = out.features[layer];
  if (!f) throw new Error(`youmt: the ${who} has no feature ${layer} (it has ${out.features.length}: stem and stages)`);
  return f.post;
}

export const youmt = defineMethod({
  id: 'youmt',
  title: 'Multiple teachers: averaged soft targets + voted relative dissimilarity',
  paper: {
    authors: 'S. You, C. Xu, C. Xu, D. Tao',
    title: 'Learning from Multiple Teacher Networks',
    venue: 'KDD',
    year: 2017,
    url: 'https://doi.org/10.1145/3097983.3098135',
  },
  family: 'multi-teacher',
  knowledge: 'relation',
  scheme: 'offline',
  teacher: 'required',
  defaults: { T: 4, gamma: 0.1, alpha: 0.9, beta: 1, margin: 0.1, layer: 2, teachers: DEFAULT_TEACHERS },
  hyperDocs: {
    T: 'softmax temperature of teachers and student',
    gamma: 'weight of the cross-entropy with labels',
    alpha: 'weight of the T^2-scaled KL to the averaged soft targets',
    beta: 'weight of the voted relative-dissimilarity (triplet) loss',
    margin: 'triplet margin delta on squared distances of L2-normalised features (range 0..4)',
    layer: 'tapped feature: 0 = stem, 1.. = stage outputs (post-activation)',
    teachers: TEACHERS_DOC,
  },
  deviations:
    'Trained in one stage with all terms together, on every triplet of distinct batch rows; the features are ' +
    'L2-normalised before the squared distances and the margin (0.1) and weight (1) are our choices, since the ' +
    'paper tunes them for its own networks. Teachers are networks of the teacher store (by default the run\'s ' +
    'teacher architecture with three seeds) rather than the paper\'s differently configured teachers.',
  extraTeachers: (hp, teacher) => parseTeachers('youmt', hp.teachers, teacher),
  create: (ctx) => {
    const { hp } = ctx;
    if (!Number.isInteger(hp.layer) || hp.layer < 0) throw new ConfigError(`method 'youmt': layer must be a feature index >= 0, got ${hp.layer}`);
    const { models, extra } = ensembleOf(ctx);
    checkEnsembleSize('youmt', models.length, 2);
    return {
      parts: { teachers: { metrics: (evaluate) => teacherAccuracies(models, evaluate) } },
      losses: (io) => {
        const outs = ensembleOutputs(io, extra, 'youmt');
        const ds = relativeDistances(tapped(io.student, hp.layer, 'student'));
        const dt = outs.map((o, k) => relativeDistances(tapped(o, hp.layer, `teacher ${k}`)));
        return {
          ce: tf.mul(crossEntropy(io.student.logits, io.labels), hp.gamma),
          kd: tf.mul(averagedSoftTargetKL(io.student.logits, outs.map((o) => o.logits), hp.T), hp.alpha),
          dissimilarity: tf.mul(votedTripletLoss(ds, dt, hp.margin), hp.beta),
        };
      },
    };
  },
});
