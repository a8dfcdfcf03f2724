/**
 * IRG: Y. Liu, J. Cao, B. Li, C. Yuan, W. Hu, Y. Li and Y. Duan, "Knowledge Distillation via
 * Instance Relationship Graph", CVPR 2019
 * (https://openaccess.thecvf.com/content_CVPR_2019/html/Liu_Knowledge_Distillation_via_Instance_Relationship_Graph_CVPR_2019_paper.html;
 * official Caffe code https://github.com/yufanLIU/IRG).
 *
 * An instance relationship graph of a layer has the batch's instance features as vertices and
 * their pairwise (squared Euclidean) distances as edges; the IRG transformation between two layers
 * is, per instance, the (squared) distance between its features at the two layers. Distances are
 * divided by their batch maximum, treated as a constant (the official layers' backward). Losses,
 * each Caffe's EuclideanLoss (sum of squares / (2 * N), N = the blob's first dimension):
 * - vertex: teacher and student logits (N = B);
 * - edge: the B x B edge matrices of every stage output, globally average-pooled (N = B);
 * - transformation: the B-vector of distances between consecutive pooled stage outputs (N = 1).
 *   loss = CE + w_vertex * L_vertex + w_edge * sum_l L_edge^l + w_transform * sum_l L_tran^l,
 * with w_edge = w_transform = 0.005 (the official prototxts' loss_weight).
 */
import { crossEntropy, defineMethod, pairwiseDistances, spatialMean, stopGradient } from '@kdbench/core';
import { tf } from '@kdbench/engine';
import type { ForwardResult } from '@kdbench/models';

/** Caffe EuclideanLoss: sum((a - b)^2) / (2 n). */
function euclideanLoss(a: tf.Tensor, b: tf.Tensor, n: number): tf.Scalar {
  return tf.div(tf.sum(tf.squaredDifference(a, b)), 2 * n) as tf.Scalar;
}

const byMax = (d: tf.Tensor) => tf.div(d, stopGradient(tf.maximum(tf.max(d), 1e-12)));

/** Edge matrix of a layer: squared pairwise distances of its vectors, divided by their maximum. */
export function irgEdges(v: tf.Tensor2D): tf.Tensor2D {
  return byMax(pairwiseDistances(v, { squared: true, eps: 0 })) as tf.Tensor2D;
}

/**
 * Channel-average groups of the wider vector so both have the same width (cross-stage pairs of
 * different widths; the official code only pairs layers of equal width).
 */
function matchWidth(a: tf.Tensor2D, b: tf.Tensor2D): [tf.Tensor2D, tf.Tensor2D] {
  const [ca, cb] = [a.shape[1], b.shape[1]];
  if (ca === cb) return [a, b];
  const [wide, narrow] = ca > cb ? [a, b] : [b, a];
  const k = wide.shape[1] / narrow.shape[1];
  if (!Number.isInteger(k)) throw new Error(`irg: widths ${ca} and ${cb} are not multiples`);
  const pooled = tf.mean(tf.reshape(wide, [wide.shape[0], narrow.shape[1], k]), 2) as tf.Tensor2D;
  return ca > cb ? [pooled, narrow] : [narrow, pooled];
}

/** Transformation vector between two layers: per-instance squared distance, divided by the maximum. */
export function irgTransformation(v1: tf.Tensor2D, v2: tf.Tensor2D): tf.Tensor1D {
  const [a, b] = matchWidth(v1, v2);
  return byMax(tf.sum(tf.squaredDifference(a, b), 1)) as tf.Tensor1D;
}

/** The pooled vectors of every stage output (without the stem). */
const stageVectors = (out: ForwardResult) => out.features.slice(1).map((f) => spatialMean(f.post));

export function irgLosses(s: ForwardResult, t: ForwardResult): { vertex: tf.Scalar; edge: tf.Scalar; transform: tf.Scalar } {
  const b = s.logits.shape[0];
  const vs = stageVectors(s);
  const vt = stageVectors(t);
  const edge = tf.addN(vs.map((v, i) => euclideanLoss(irgEdges(v), irgEdges(vt[i]!), b))) as tf.Scalar;
  const pairs = vs.slice(1).map((_, i) => i);
  const transform = (
    pairs.length
      ? tf.addN(pairs.map((i) => euclideanLoss(irgTransformation(vs[i]!, vs[i + 1]!), irgTransformation(vt[i]!, vt[i + 1]!), 1)))
      : tf.scalar(0)
  ) as tf.Scalar;
  return { vertex: euclideanLoss(s.logits, t.logits, b), edge, transform };
}

export const irg = defineMethod({
  id: 'irg',
  title: 'Instance relationship graph (vertices, edges, transformation)',
  paper: {
    authors: 'Y. Liu, J. Cao, B. Li, C. Yuan, W. Hu, Y. Li, Y. Duan',
    title: 'Knowledge Distillation via Instance Relationship Graph',
    venue: 'CVPR',
    year: 2019,
    url: 'https://openaccess.thecvf.com/content_CVPR_2019/html/Liu_Knowledge_Distillation_via_Instance_Relationship_Graph_CVPR_2019_paper.html',
  },
  family: 'graph',
  knowledge: 'relation',
  scheme: 'offline',
  teacher: 'required',
  defaults: { gamma: 1, wVertex: 0.005, wEdge: 0.005, wTransform: 0.005 },
  hyperDocs: {
    gamma: 'weight of the cross-entropy with labels',
    wVertex: 'weight of the vertex (logits) loss',
    wEdge: 'weight of the edge loss, summed over stage outputs',
    wTransform: 'weight of the IRG-transformation loss, summed over consecutive stage pairs',
  },
  deviations:
    'Edge and transformation weights (0.005) and normalisations come from the official Caffe prototxts; the vertex ' +
    '(logits) weight is not given there and is set to the same 0.005 (unverified against the paper text). The official ' +
    'transformation pairs the first and last block of a stage (equal widths); kdbench exposes only stage outputs, so ' +
    'consecutive stage outputs are paired (stage1->stage2, ...) and the wider vector is averaged over groups of adjacent ' +
    'channels to the narrower width.',
  create: ({ hp }) => ({
    losses: (io) => {
      const l = irgLosses(io.student, io.teacher);
      return {
        ce: tf.mul(crossEntropy(io.student.logits, io.labels), hp.gamma),
        irgVertex: tf.mul(l.vertex, hp.wVertex),
        irgEdge: tf.mul(l.edge, hp.wEdge),
        irgTransform: tf.mul(l.transform, hp.wTransform),
      };
    },
  }),
});
