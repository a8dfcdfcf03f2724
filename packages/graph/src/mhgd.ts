/**
 * MHGD: S. Lee, B. C. Song, "Graph-based Knowledge Distillation by Multi-head Attention Network",
 * BMVC 2019 (arXiv:1907.02226, https://arxiv.org/abs/1907.02226). Authors' code:
 * github.com/sseung0703/KD_methods_with_TF @ 9fb54144fe6a80edd94259d4ba42995b594c91a0 (nets/Relation.py
 * `MHGD`, `Attention_head`, `Estimator`; nets/SVP.py; nets/ResNet.py; op_util.py `Optimizer_w_MHGD`;
 * train_w_distill.py), which the MHGD repository's README points to.
 *
 * Vertices are the feature maps at the end of each stage, each compressed per sample to its leading
 * right singular vector(s) (teacher 1, student 4 aligned to the teacher's: V^l [B, D_l]). For every
 * pair of consecutive stages a multi-head attention network relates the samples of the batch:
 *   sender S = BN(V^l W_s), receiver R = BN(V^{l-1} W_r) (no bias), split into H = 8 heads of width
 *   d = floor((D_l + D_{l-1}) / 2); G[h] = S_h R_h^T [B, B] (sample i's stage l vs sample j's stage l-1).
 * Stage 1 (`mhgd-attention`) trains the attention networks on the teacher alone: an estimator
 * predicts V_T^l from the attention-weighted V_T^{l-1} of the batch,
 *   V^_l = norm( concat_h( dropHead(softmax_j G[h]) ReLU(BN(V_T^{l-1} W_0)) ) W_1 + b_1 ),
 *   L_MHA = sum_pairs mean_b (1 - <V^_l(b), V_T^l(b)>).
 * Stage 2 (the main stage) freezes the attention networks (batch norm on running statistics) and
 * the student matches the teacher's graphs row by row:
 *   L_tr = sum_pairs sum_{h, i} KL( softmax_j tanh G_S[h, i, :] || softmax_j tanh G_T[h, i, :] ),
 *   loss = CE(s, y) + beta * L_tr,
 * where L_tr's gradient on each student variable is clipped to the norm of CE's gradient on it times
 * sigmoid(e), e the 0-based student epoch (op_util.py `Optimizer_w_MHGD`: clip_by_norm by the class
 * loss's gradient norm times sigmoid(epoch - init_epoch)): the summed KL never outweighs the labels,
 * and its share ramps up over the first student epochs (the stage's `gradientCap`).
 * Defaults: H = 8, teacher 1 and student 4 singular vectors (Relation.py); 40 attention epochs
 * before 100 student epochs (train_w_distill.py), i.e. attentionFraction 0.4 of the main stage's
 * epochs; fully connected weights truncated-normal with variance 2.6 / fan-out
 * (variance_scaling_initializer(mode='FAN_OUT'), nets/ResNet.py arg scope); the estimator's last
 * bias zero; batch-norm momentum 0.1 (decay 0.9), eps 1e-5; no weight on L_tr (beta = 1).
 */
import { ConfigError, Dense, crossEntropy, defineMethod, l2NormalizeRows, moduleSeed, stopGradient, type FrozenLayer, type Part } from '@kdbench/core';
import { tf, type Rng } from '@kdbench/engine';
import type { FeatureShape, ForwardResult } from '@kdbench/models';
import { alignToTeacher, rightSingularVectors } from './shared/singular-vectors.js';

const FAN_OUT = { kind: 'truncated_normal_fan_out', factor: 2 } as const;

/** Each stage output of a forward pass compressed to `count` right singular vectors per sample: [B, count, D] per stage. */
export function stageSingularVectors(out: ForwardResult, count: number): tf.Tensor3D[] {
  return out.features.slice(1).map((f) => {
    const [b, h, w, c] = f.post.shape;
    return rightSingularVectors(tf.reshape(f.post, [b, h * w, c]) as tf.Tensor3D, count);
  });
}

/** G [H, B, B] from sender rows S [B, d H] and receiver rows R [B, d H], heads interleaved as the code's reshape to [B, d, H]. */
export function headGraphs(sender: tf.Tensor2D, receiver: tf.Tensor2D, heads: number): tf.Tensor3D {
  return tf.tidy(() => {
    const [b, width] = sender.shape;
    const d = width / heads;
    const s = tf.transpose(tf.reshape(sender, [b, d, heads]), [2, 0, 1]) as tf.Tensor3D;
    const r = tf.transpose(tf.reshape(receiver, [b, d, heads]), [2, 1, 0]) as tf.Tensor3D;
    return tf.matMul(s, r);
  });
}

/** sum over heads and rows of KL(softmax(a) || softmax(b)) along the last axis (the code's `kld_loss`, a sum). */
export function rowKLSum(a: tf.Tensor, b: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const la = tf.logSoftmax(a);
    return tf.sum(tf.mul(tf.exp(la), tf.sub(la, tf.logSoftmax(b)))) as tf.Scalar;
  });
}

/** The attention network of one pair of consecutive stages (front D_F = D_{l-1}, back D_B = D_l). */
export class AttentionPair {
  readonly sender: Dense;
  readonly receiver: Dense;
  readonly hidden: Dense;
  readonly out: Dense;
  private frozen: [FrozenLayer, FrozenLayer] | null = null;

  constructor(readonly front: number, readonly back: number, readonly heads: number, seed: (label: string) => number) {
    const d = Math.floor((front + back) / 2);
    this.sender = new Dense(back, d * heads, seed('sender'), { init: FAN_OUT, bias: 'none', bn: true });
    this.receiver = new Dense(front, d * heads, seed('receiver'), { init: FAN_OUT, bias: 'none', bn: true });
    this.hidden = new Dense(front, d, seed('hidden'), { init: FAN_OUT, bias: 'none', bn: true, relu: true });
    this.out = new Dense(d * heads, back, seed('out'), { init: FAN_OUT, bias: 'zero' });
  }

  /** G [H, B, B] with the trainable layers (batch statistics). */
  graphs(vBack: tf.Tensor2D, vFront: tf.Tensor2D): tf.Tensor3D {
    return headGraphs(this.sender.apply(vBack, true), this.receiver.apply(vFront, true), this.heads);
  }

  /** G [H, B, B] through frozen copies of the sender and receiver (taken at the first call). */
  frozenGraphs(vBack: tf.Tensor2D, vFront: tf.Tensor2D): tf.Tensor3D {
    this.frozen ??= [this.sender.frozen(), this.receiver.frozen()];
    return headGraphs(this.frozen[0].apply(vBack), this.frozen[1].apply(vFront), this.heads);
  }

  /** The estimate of V^l from V^{l-1} and G; `keep` [H, B, 1] is the head-dropout mask (1 keeps a row of a head). */
  estimate(vFront: tf.Tensor2D, g: tf.Tensor3D, keep: tf.Tensor3D): tf.Tensor2D {
    return tf.tidy(() => {
      const [h, b] = g.shape;
      const p = tf.reshape(tf.mul(tf.softmax(g), keep), [h * b, b]) as tf.Tensor2D;
      const x = this.hidden.apply(vFront, true);
      const d = x.shape[1];
      const mixed = tf.reshape(tf.transpose(tf.reshape(tf.matMul(p, x), [h, b, d]), [1, 0, 2]), [b, h * d]) as tf.Tensor2D;
      return l2NormalizeRows(this.out.apply(mixed, true));
    });
  }

  trainableVariables(): tf.Variable[] {
    return [this.sender, this.receiver, this.hidden, this.out].flatMap((m) => m.trainableVariables());
  }

  dispose(): void {
    this.frozen?.forEach((f) => f.dispose());
    this.frozen = null;
    [this.sender, this.receiver, this.hidden, this.out].forEach((m) => m.dispose());
  }
}

/**
 * Head dropout of the estimator (the code's `drop_head`): per head and sample a standard normal
 * draw; the row is kept when its draw exceeds the mean of the sample's draws over the heads.
 */
export function headDropMask(rng: Rng, heads: number, b: number): tf.Tensor3D {
  const z = Array.from({ length: heads * b }, () => rng.normal());
  const keep = new Float32Array(heads * b);
  for (let i = 0; i < b; i++) {
    let mean = 0;
    for (let h = 0; h < heads; h++) mean += z[h * b + i]! / heads;
    for (let h = 0; h < heads; h++) keep[h * b + i] = z[h * b + i]! - mean > 0 ? 1 : 0;
  }
  return tf.tensor3d(keep, [heads, b, 1]);
}

/** Student epochs of the authors' schedule (train_w_distill.py), the scale of the cap's warm-up. */
const CODE_STUDENT_EPOCHS = 100;

/** The code's `sigmoid(x, 0)`: 1 / (1 + e^-x), and exactly 1 once within 1e-8 of it. */
export function warmUp(x: number): number {
  const s = 1 / (1 + Math.exp(-x));
  return s > 1 - 1e-8 ? 1 : s;
}

/** Stage outputs' channel counts, stem excluded; teacher and student must agree at every stage. */
function stageChannels(method: string, s: readonly FeatureShape[], t: readonly FeatureShape[]): number[] {
  const stages = (shapes: readonly FeatureShape[]) => shapes.filter((f) => f.name !== 'stem' && f.name !== 'embedding').map((f) => f.channels);
  const [cs, ct] = [stages(s), stages(t)];
  if (cs.length < 2 || cs.length !== ct.length || cs.some((c, i) => c !== ct[i])) {
    throw new ConfigError(
      `${method}: needs teacher and student with the same channels at every stage output (at least two stages); ` +
        `student [${cs.join(', ')}], teacher [${ct.join(', ')}] (the frozen attention networks read both)`,
    );
  }
  return cs;
}

export const mhgd = defineMethod({
  id: 'mhgd',
  title: 'Multi-head graph distillation (attention graphs between stages)',
  paper: {
    authors: 'S. Lee, B. C. Song',
    title: 'Graph-based Knowledge Distillation by Multi-head Attention Network',
    venue: 'BMVC',
    year: 2019,
    url: 'https://arxiv.org/abs/1907.02226',
  },
  family: 'graph',
  knowledge: 'relation',
  scheme: 'offline',
  teacher: 'required',
  defaults: { gamma: 1, beta: 1, heads: 8, attentionFraction: 0.4, studentVectors: 4 },
  hyperDocs: {
    gamma: 'weight of the cross-entropy with labels',
    beta: 'weight of the graph transfer loss (a sum over pairs, heads and rows; its gradient is then capped per variable by the cross-entropy\'s, as in the code)',
    heads: 'attention heads per pair of consecutive stages',
    attentionFraction: 'epochs of the attention-network stage as a fraction of the main stage\'s (the code: 40 before 100); at least 1',
    studentVectors: 'singular vectors kept per student map, the one best aligned with the teacher\'s is used',
  },
  deviations:
    'The cap\'s sigmoid warm-up counts epochs at the code\'s scale (100 student epochs): sigmoid(e * 100 / epochs), so it ' +
    'spans the same share of a shorter run. The attention stage uses the protocol\'s SGD (momentum 0.9, weight decay ' +
    '5e-4 as gradient term, learning rate constant at the protocol\'s) where the code uses Nesterov momentum at 0.1 with ' +
    'a 5e-4 * sum of squares penalty. The singular vectors come from a Jacobi eigensolver of X^T X with the exact eigenvector ' +
    'gradient (the code: LAPACK eigh and its own analytic gradient); each vector\'s sign is fixed by its largest component.',
  create: (ctx) => {
    const { hp, rng } = ctx;
    if (!(Number.isInteger(hp.heads) && hp.heads >= 1)) throw new ConfigError(`mhgd: heads must be a positive integer, got ${hp.heads}`);
    if (!(hp.attentionFraction > 0)) throw new ConfigError(`mhgd: attentionFraction must be > 0, got ${hp.attentionFraction}`);
    const channels = stageChannels('mhgd', ctx.studentShapes, ctx.teacherShapes);
    const minC = Math.min(...channels);
    if (!(Number.isInteger(hp.studentVectors) && hp.studentVectors >= 1 && hp.studentVectors <= minC)) {
      throw new ConfigError(`mhgd: studentVectors must be an integer in [1, ${minC}] (the narrowest stage), got ${hp.studentVectors}`);
    }
    const pairs = channels.slice(1).map((back, i) =>
      new AttentionPair(channels[i]!, back, hp.heads, (label) => moduleSeed(rng, `mhgd.pair${i}.${label}`)));
    const dropRng = rng.fork('mhgd.drop');
    let epochRng = dropRng.fork(0);
    const attention: Part = {
      trainableVariables: () => pairs.flatMap((p) => p.trainableVariables()),
      onEpochStart: (epoch) => { epochRng = dropRng.fork(epoch); },
      dispose: () => pairs.forEach((p) => p.dispose()),
    };
    const teacherVectors = (out: ForwardResult) => stageSingularVectors(out, 1).map((v) => tf.squeeze(v, [1]) as tf.Tensor2D);
    return {
      parts: { attention },
      procedure: {
        main: { gradientCap: { term: 'graph', factor: (epoch) => warmUp((epoch * CODE_STUDENT_EPOCHS) / ctx.epochs) } },
        stages: [{
          name: 'mhgd-attention',
          epochs: Math.max(1, Math.round(hp.attentionFraction * ctx.epochs)),
          variables: () => attention.trainableVariables!(),
          losses: (io) => {
            const vt = teacherVectors(io.teacher);
            const b = vt[0]!.shape[0];
            const losses = pairs.map((p, i) => {
              const g = p.graphs(vt[i + 1]!, vt[i]!);
              const est = p.estimate(vt[i]!, g, headDropMask(epochRng, hp.heads, b));
              return tf.mean(tf.sub(1, tf.sum(tf.mul(est, vt[i + 1]!), 1)));
            });
            return { mha: tf.addN(losses) as tf.Scalar };
          },
        }],
      },
      losses: (io) => {
        const vt = teacherVectors(io.teacher);
        const vs = stageSingularVectors(io.student, hp.studentVectors).map((v, l) => alignToTeacher(v, vt[l]!));
        const transfer = pairs.map((p, i) =>
          rowKLSum(tf.tanh(p.frozenGraphs(vs[i + 1]!, vs[i]!)), stopGradient(tf.tanh(p.frozenGraphs(vt[i + 1]!, vt[i]!)))));
        return {
          ce: tf.mul(crossEntropy(io.student.logits, io.labels), hp.gamma),
          graph: tf.mul(tf.addN(transfer), hp.beta),
        };
      },
    };
  },
});
