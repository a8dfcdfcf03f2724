/**
 * iCaRL: Rebuffi, Kolesnikov, Sperl & Lampert, "iCaRL: Incremental Classifier and Representation
 * Learning", CVPR 2017 (arXiv:1611.07725).
 *
 * - Memory: at most K exemplars in all; after t classes each class keeps m = K / t, the first m of
 *   its herding list (herding.ts, memory.ts). New classes are added by herding on the L2-normalised
 *   embeddings of the network after their task.
 * - Representation learning (Algorithm 3): task k trains on its own rows plus every exemplar, with a
 *   sigmoid binary cross-entropy per seen class: targets are the one-hot labels for the new classes
 *   and the previous network's sigmoid outputs for the old classes (distillation):
 *     loss = -sum_{y new} [d_y log g_y + (1-d_y) log(1-g_y)] - sum_{y old} [q_y log g_y + (1-q_y) log(1-g_y)],
 *   summed over the seen classes, averaged over the batch.
 * - Classification (Algorithm 1): nearest mean of exemplars: the class means of the normalised
 *   exemplar embeddings; an image goes to the class whose mean is nearest to its normalised embedding
 *   (its scores are -||phi(x) - mu_y||^2). The per-task accuracies and the lifelong metrics use it;
 *   the trainer's per-epoch accuracy of the last task is the network's own output.
 *
 * K: the paper keeps 2000 exemplars of CIFAR-100's 50,000 training images (4%); with `memoryScale`
 * the budget is scaled by the training split's size (K = 2000 * n / 50000: 160 for the quick
 * CIFAR-10 split of 4,000 images), and each class keeps at least one exemplar.
 *
 * Checked against the authors' code: srebuffi/iCaRL iCaRL-TheanoLasagne/main_cifar_100_theano.py @
 * 7a3d254: sigmoid BCE with one-hot targets for the new classes and the previous network's sigmoid
 * outputs replacing the targets of the old classes (also on exemplars of old classes) and the
 * 2000-exemplar memory (20 per class at the end) match. The loss's extent differs: the reference
 * applies the BCE to all 100 outputs, so classes not yet seen get target 0, and averages over batch
 * and outputs (lasagne binary_crossentropy(...).mean()); here unseen classes are left out and the
 * BCE is summed over the seen classes, averaged over the batch.
 */
import { defineMethod } from '@kdbench/core';
import { tf } from '@kdbench/engine';
import { INCREMENTAL_DEFAULTS, INCREMENTAL_DOCS, classIncremental, copyWeights, planTasks } from './incremental.js';
import { classMean, herding } from './herding.js';
import { ExemplarMemory } from './memory.js';
import { rowsOfClasses } from './tasks.js';

/** The memory budget K for a training split of n images. */
export function memoryBudget(memory: number, scale: boolean, n: number): number {
  return scale ? Math.round((memory * n) / 50000) : memory;
}

/**
 * iCaRL's classification-and-distillation loss: sigmoid binary cross-entropy over the new and old
 * classes (others ignored), targets one-hot for the new classes and sigmoid(previous) for the old,
 * summed over classes and averaged over the batch.
 */
export function icarlLoss(
  logits: tf.Tensor2D, previous: tf.Tensor2D | null, labels: tf.Tensor1D, newClasses: readonly number[], oldClasses: readonly number[],
): tf.Scalar {
  const C = logits.shape[1];
  const newMask = tf.tensor1d(Array.from({ length: C }, (_, c) => (newClasses.includes(c) ? 1 : 0)));
  const oldMask = tf.tensor1d(Array.from({ length: C }, (_, c) => (oldClasses.includes(c) ? 1 : 0)));
  if (oldClasses.length > 0 && !previous) throw new Error('icarlLoss: old classes need the previous network\'s logits');
  const q = previous ? tf.sigmoid(previous) : tf.zerosLike(logits);
  const targets = tf.add(tf.mul(tf.oneHot(tf.cast(labels, 'int32'), C), newMask), tf.mul(q, oldMask));
  // BCE with logits, stable form: max(z, 0) - z t + log(1 + exp(-|z|))
  const bce = tf.add(tf.sub(tf.relu(logits), tf.mul(logits, targets)), tf.log1p(tf.exp(tf.neg(tf.abs(logits)))));
  return tf.sum(tf.mean(tf.mul(bce, tf.add(newMask, oldMask)), 0)) as tf.Scalar;
}

export const icarl = defineMethod({
  id: 'icarl',
  title: 'iCaRL (exemplars, distillation, nearest-mean classifier)',
  paper: {
    authors: 'S.-A. Rebuffi, A. Kolesnikov, G. Sperl, C. H. Lampert',
    title: 'iCaRL: Incremental Classifier and Representation Learning',
    venue: 'CVPR',
    year: 2017,
    url: 'https://arxiv.org/abs/1611.07725',
  },
  family: 'lifelong',
  knowledge: 'response',
  scheme: 'offline',
  teacher: 'none',
  defaults: { ...INCREMENTAL_DEFAULTS, memory: 2000, memoryScale: true },
  hyperDocs: {
    ...INCREMENTAL_DOCS,
    memory: 'exemplar memory K, shared by all seen classes (the paper: 2000)',
    memoryScale: 'scale K by the training split size / 50,000 (the paper keeps 4% of CIFAR-100); false: K as given',
  },
  deviations:
    "The protocol's optimiser is used (SGD, lr 0.05, batch 64, the protocol's epochs per task) instead of the paper's " +
    '(lr 2.0, batch 128, 70 epochs divided by 5 at 49 and 63, weight decay 1e-5); class means use the exemplars only, ' +
    "without the horizontally flipped copies of iCaRL's code; K is scaled to the training split size (memoryScale).",
  create: (ctx) => {
    const plan = planTasks(ctx);
    const student = ctx.student;
    const previous = ctx.createNetwork('previous');
    const K = memoryBudget(ctx.hp.memory, ctx.hp.memoryScale, ctx.trainSize);
    const stored = tf.tidy(() => tf.variable(tf.zeros([ctx.trainSize]), false)); // the memory, one number per row (memory.ts)
    const memory = () => ExemplarMemory.decode(stored.dataSync(), ctx.trainLabels);
    let means = new Map<number, Float32Array>();

    return classIncremental(ctx, plan, {
      rows: (k) => Int32Array.from(new Set([...plan.rows[k]!, ...memory().rows()])),
      losses: (io, k) => ({
        bce: icarlLoss(io.student.logits, k > 0 ? previous.forward(io.x, { training: false }).logits : null, io.labels, plan.classes[k]!, k > 0 ? plan.seen(k - 1) : []),
      }),
      afterTask: (k, tools) => {
        const mem = memory();
        const m = Math.max(1, ExemplarMemory.perClass(K, plan.seen(k).length));
        mem.reduce(m);
        for (const c of plan.classes[k]!) {
          const rows = rowsOfClasses(ctx.trainLabels, [c]);
          const features = tools.embed(student, rows);
          mem.set(c, herding(features, features.length / rows.length, m).map((i) => rows[i]!));
        }
        tf.tidy(() => stored.assign(tf.tensor1d(mem.encode(ctx.trainSize))));
        means = new Map(plan.seen(k).map((c) => {
          const rows = Int32Array.from(mem.of(c));
          const features = tools.embed(student, rows);
          return [c, classMean(features, features.length / rows.length)];
        }));
      },
      classify: (k) => {
        const seen = plan.seen(k);
        const d = means.get(seen[0]!)!.length;
        const table = new Float32Array(ctx.numClasses * d);
        const seenMask = new Float32Array(ctx.numClasses).fill(-1e9);
        for (const c of seen) {
          table.set(means.get(c)!, c * d);
          seenMask[c] = 0;
        }
        return (x) => {
          const e = student.forward(x, { training: false }).embedding;
          const phi = tf.div(e, tf.maximum(tf.norm(e, 2, 1, true), 1e-12));
          const mu = tf.tensor2d(table, [ctx.numClasses, d]);
          // -||phi - mu||^2 = 2 phi.mu - 2 for unit vectors
          return tf.add(tf.sub(tf.mul(tf.matMul(phi, mu, false, true), 2), 2), tf.tensor1d(seenMask)) as tf.Tensor2D;
        };
      },
      beforeNextTask: () => copyWeights(student, previous),
      networks: { previous: { model: previous, trainInMain: false } },
      parts: { exemplars: { buffers: () => ({ exemplars: stored }), dispose: () => stored.dispose() } },
    });
  },
});
