/**
 * CS-KD: S. Yun, J. Park, K. Lee, J. Shin, "Regularizing Class-wise Predictions via
 * Self-Knowledge Distillation", CVPR 2020 (arXiv:2003.13964, https://arxiv.org/abs/2003.13964).
 *
 * Class-wise self-knowledge distillation: every training image x is paired with another random
 * image x' of the same class, and the network's softened prediction on x' (held fixed) teaches its
 * prediction on x:
 *   L = CE(f(x), y) + lambda * T^2 * KL(softmax(f(x')/T) || softmax(f(x)/T)),   lambda = 1, T = 4
 * (the authors' CIFAR settings). The partners come from the trainer's `companions` hook (one per
 * batch row, augmented like the batch); the partner pass runs in training mode without gradient, as
 * in the authors' code (no_grad in train mode).
 *
 * Checked against the authors' code: alinlab/cs-kd train.py (KDLoss, train) and datasets.py
 * (PairBatchSampler) @ b447f25: CE + lamda * T^2 * KL summed over classes and divided by the batch
 * size, the partner's logits computed under no_grad in train mode and detached, lamda = 1 and
 * temp = 4 (the README's CIFAR command) match. The reference draws the partner with random.choice
 * over the whole class, so it is occasionally the record itself; we draw among the other records of
 * the class.
 */
import { crossEntropy, defineMethod, softTargetKL, stopGradient, type MethodContext } from '@kdbench/core';
import { tf, type Rng } from '@kdbench/engine';

/**
 * Draws, for each batch record, another training record of the same class (the record itself only
 * when it is alone in its class). Returns split rows (indices into ctx.trainIds).
 */
export class ClassPartners {
  private readonly rowsOfClass = new Map<number, number[]>();
  private readonly rowOfId = new Map<number, number>();

  constructor(ids: Int32Array, labels: Int32Array) {
    labels.forEach((c, row) => {
      const list = this.rowsOfClass.get(c) ?? [];
      list.push(row);
      this.rowsOfClass.set(c, list);
      this.rowOfId.set(ids[row]!, row);
    });
  }

  draw(ids: Int32Array, labels: Int32Array, rng: Rng): Int32Array {
    return Int32Array.from(ids, (id, i) => {
      const own = this.rowOfId.get(id);
      const pool = this.rowsOfClass.get(labels[i]!);
      if (own === undefined || !pool) throw new Error(`cskd: record ${id} (class ${labels[i]}) is not in the training split`);
      if (pool.length === 1) return own;
      const pick = pool[rng.int(pool.length - 1)]!;
      return pick === own ? pool[pool.length - 1]! : pick; // uniform over the others
    });
  }
}

export const cskd = defineMethod({
  id: 'cskd',
  title: 'Class-wise self-knowledge distillation',
  paper: {
    authors: 'S. Yun, J. Park, K. Lee, J. Shin',
    title: 'Regularizing Class-wise Predictions via Self-Knowledge Distillation',
    venue: 'CVPR',
    year: 2020,
    url: 'https://arxiv.org/abs/2003.13964',
  },
  family: 'self',
  knowledge: 'response',
  scheme: 'self',
  teacher: 'none',
  defaults: { lambda: 1, T: 4 },
  hyperDocs: {
    lambda: 'weight of the class-wise KL term (1 in the paper\'s CIFAR experiments)',
    T: 'softmax temperature of the class-wise KL (4)',
  },
  deviations: '',
  create: (ctx: MethodContext<{ lambda: number; T: number }>) => {
    const { hp } = ctx;
    const partners = new ClassPartners(ctx.trainIds, ctx.trainLabels);
    let rng: Rng | undefined;
    let rngEpoch = -1;
    return {
      procedure: {
        companions: (ids, labels, epoch) => {
          if (epoch !== rngEpoch) {
            rng = ctx.rng.fork(`cskd:${epoch}`);
            rngEpoch = epoch;
          }
          return partners.draw(ids, labels, rng!);
        },
      },
      losses: (io) => {
        if (!io.companion) throw new Error('cskd: the batch has no companions (the trainer must serve the companions hook)');
        const partner = stopGradient(ctx.student.forward(io.companion.x, { training: true }).logits);
        return {
          ce: crossEntropy(io.student.logits, io.labels),
          cls: tf.mul(softTargetKL(io.student.logits, partner, hp.T), hp.lambda),
        };
      },
    };
  },
});
