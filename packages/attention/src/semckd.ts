/**
 * SemCKD: D. Chen, J.-P. Mei, Y. Zhang, C. Wang, Z. Wang, Y. Feng, C. Chen, "Cross-Layer
 * Distillation with Semantic Calibration", AAAI 2021 (arXiv:2012.03236).
 *
 * Every student layer distils from every teacher layer, weighted by a learned attention: for each
 * sample, a student layer's query and a teacher layer's key are MLP embeddings (Linear-ReLU-Linear,
 * L2-normalised, width batch/4; input width the training batch size) of the layer's row of the
 * batch similarity matrix F F^T; the attention alpha_ij = softmax_j(q_i . k_j) allocates the
 * student layer's loss over teacher layers.
 * A projection per pair (1x1 conv-BN-ReLU, 3x3 conv-BN-ReLU, 1x1 conv, mid width 2 * teacher
 * channels) maps the student feature to the teacher's channels, the larger map of a pair being
 * average-pooled to the smaller:
 *   L_SemCKD = sum_(b, i, j) alpha_bij * MSE_b(proj_ij(s_i), t_j) / (B * n_student_layers).
 * Total: gamma * CE + alpha * T^2 * KL (T = 4) + beta * L_SemCKD with the paper's CIFAR-100
 * settings (reference code run_cifar_distill.sh: -r 1 -a 1 -b 400): gamma = 1, alpha = 1, beta = 400,
 * on every stage output (feat[1:-1]).
 *
 * Checked against the authors' code: DefangChen/SemCKD distiller_zoo/SemCKD.py, models/util.py
 * (SelfA, MLPEmbed, AAEmbed), helper/loops.py and scripts/run_cifar_distill.sh @ ebe5db1: the
 * per-pair MSE averaged per sample, the attention softmax over teacher layers, the sum divided by
 * B * n_student_layers, the query/key MLPs on rows of F F^T (input width the batch size, output
 * batch / 4), the projections, the pooling of the larger map, the taps feat[1:-1] and the weights
 * -r 1 -a 1 -b 400 with T = 4 match. The reference skips a training batch shorter than the batch
 * size (see deviations).
 */
import { ConvStack, MLPEmbed, ModuleGroup, avgPoolTo, crossEntropy, defineMethod, flattenRows, moduleSeed, softTargetKL, stageShapes } from '@kdbench/core';
import { tf } from '@kdbench/engine';

export const semckd = defineMethod({
  id: 'semckd',
  title: 'Cross-layer distillation with semantic calibration (attention over teacher layers)',
  paper: {
    authors: 'D. Chen, J.-P. Mei, Y. Zhang, C. Wang, Z. Wang, Y. Feng, C. Chen',
    title: 'Cross-Layer Distillation with Semantic Calibration',
    venue: 'AAAI',
    year: 2021,
    url: 'https://arxiv.org/abs/2012.03236',
  },
  family: 'attention',
  knowledge: 'feature',
  scheme: 'offline',
  teacher: 'required',
  defaults: { gamma: 1, alpha: 1, T: 4, beta: 400, factor: 4 },
  hyperDocs: {
    gamma: 'weight of the cross-entropy with labels',
    alpha: 'weight of the T^2-scaled KD term',
    T: 'KD temperature',
    beta: 'weight of the SemCKD loss',
    factor: 'query/key width = training batch size / factor (the embeddings take rows of the B x B similarity matrix)',
  },
  deviations:
    'A final batch shorter than the training batch size (ctx.batchSize, the query/key input width) is zero-padded to that width (the authors\' training loop skips such a batch, helper/loops.py); a larger batch is an error.',
  create: ({ hp, studentShapes, teacherShapes, batchSize, rng }) => {
    if (!teacherShapes) throw new Error('semckd needs a teacher');
    const ss = stageShapes(studentShapes).slice(1);
    const ts = stageShapes(teacherShapes).slice(1);
    if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new Error(`semckd: the training batch size must be a positive integer, got ${batchSize}`);
    const dim = Math.max(1, Math.floor(batchSize / hp.factor));
    const queries = ss.map((_, i) => new MLPEmbed(batchSize, dim, moduleSeed(rng, `semckd.query${i}`)));
    const keys = ts.map((_, j) => new MLPEmbed(batchSize, dim, moduleSeed(rng, `semckd.key${j}`)));
    const proj = ss.map((s, i) =>
      ts.map((t, j) => {
        const size = s.height > t.height ? { h: t.height, w: t.width } : { h: s.height, w: s.width };
        const mid = 2 * t.channels;
        return new ConvStack(
          s.channels, size,
          [
            { out: mid, kernel: 1, bias: false, bn: true, act: 'relu' },
            { out: mid, kernel: 3, bias: false, bn: true, act: 'relu' },
            { out: t.channels, kernel: 1, bias: false },
          ],
          moduleSeed(rng, `semckd.proj${i}.${j}`),
        );
      }),
    );
    const group = new ModuleGroup([...queries, ...keys, ...proj.flat()]);

    /** Rows of F F^T, zero-padded to the training batch size (ctx.batchSize) in columns. */
    const similarity = (f: tf.Tensor4D) => {
      const b = f.shape[0];
      if (b > batchSize) throw new Error(`semckd: batch of ${b} exceeds the training batch size (${batchSize}) the query/key embeddings were built for`);
      const flat = flattenRows(f);
      const sim = tf.matMul(flat, flat, false, true);
      return b < batchSize ? tf.pad(sim, [[0, 0], [0, batchSize - b]]) : sim;
    };

    const semckdLoss = (fs: tf.Tensor4D[], ft: tf.Tensor4D[]): tf.Scalar => {
      const b = fs[0]!.shape[0];
      const q = tf.stack(fs.map((f, i) => queries[i]!.apply(similarity(f))), 1); // [B, nS, d]
      const k = tf.stack(ft.map((f, j) => keys[j]!.apply(similarity(f))), 2); // [B, d, nT]
      const attention = tf.softmax(tf.matMul(q as tf.Tensor3D, k as tf.Tensor3D)); // [B, nS, nT]
      const perPair = fs.map((s, i) =>
        tf.stack(
          ft.map((t, j) => {
            const [sh, th] = [s.shape[1], t.shape[1]];
            const input = sh > th ? avgPoolTo(s, th, t.shape[2]) : s;
            const target = sh > th ? t : avgPoolTo(t, sh, s.shape[2]);
            return tf.mean(flattenRows(tf.squaredDifference(proj[i]![j]!.apply(input), target)), 1); // [B]
          }),
          1,
        ),
      ); // nS x [B, nT]
      const ind = tf.stack(perPair, 1); // [B, nS, nT]
      return tf.div(tf.sum(tf.mul(attention, ind)), b * fs.length) as tf.Scalar;
    };

    return {
      parts: { semckd: group },
      losses: (io) => {
        const fs = io.student.features.slice(1).map((f) => f.post);
        const ft = io.teacher.features.slice(1).map((f) => f.post);
        if (fs.length !== ss.length || ft.length !== ts.length) throw new Error('semckd: feature lists differ from the shapes given at create()');
        return {
          ce: tf.mul(crossEntropy(io.student.logits, io.labels), hp.gamma),
          kd: tf.mul(softTargetKL(io.student.logits, io.teacher.logits, hp.T), hp.alpha),
          semckd: tf.mul(tf.tidy(() => semckdLoss(fs, ft)), hp.beta),
        };
      },
    };
  },
});
