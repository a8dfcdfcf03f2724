/**
 * DAFL: H. Chen, Y. Wang, C. Xu, Z. Yang, C. Liu, B. Shi, C. Xu, C. Xu, Q. Tian, "Data-Free
 * Learning of Student Networks", ICCV 2019 (arXiv:1904.01186, https://arxiv.org/abs/1904.01186).
 *
 * The teacher is a fixed discriminator; a generator G learns to produce images on which the
 * teacher responds like on real data, and the student learns by KD on them. For generated images
 * with teacher logits y_T, pooled teacher features f_T and predicted classes t = argmax y_T:
 *   L_G = oh * CE(y_T, t)  -  a * mean|f_T|  +  ie * sum_c p_c log p_c,   p = mean over the batch of softmax(y_T)
 * (one-hot loss: confident teacher outputs; activation loss: large features; information entropy:
 * balanced classes). The student minimises KL(softmax(y_T) || softmax(y_S)) (T = 1, batch mean) on
 * the same images, G and S being updated together on every generated batch. No training image is
 * used: `data: 'none'`.
 * Defaults are the authors' CIFAR-10 command: oh 0.05, ie 5, a 0.01, latent 1000, Adam lr 0.02.
 *
 * Checked against the authors' code: huawei-noah/Data-Efficient-Model-Compression
 * DAFL/DAFL-train.py, DAFL/resnet.py and DAFL/README.md @ 5e8f4e4: the one-hot CE of the teacher
 * against its own argmax, the activation term -mean|f_T| on the pooled teacher feature, the
 * student's KL (sum over classes / batch, T = 1) on the detached images and teacher outputs, one
 * joint step of generator and student, and the README's CIFAR-10 values (oh 0.05, ie 5, latent
 * 1000, lr_G 0.02) match. The information-entropy term differs: the code takes torch.log10 of the
 * mean softmax, where we take the natural log, so our ie term is ln(10), about 2.30, times the
 * authors' for the same ie. The README passes --act 0.01, an option DAFL-train.py does not define
 * (it defines --a, default 0.1); we use 0.01.
 */
import { crossEntropy, defineMethod, softTargetKL } from '@kdbench/core';
import { tf } from '@kdbench/engine';
import { generatorGame } from './shared/generator-game.js';

/** DAFL's generator terms from the teacher's logits and pooled features on generated images. */
export function daflLosses(logits: tf.Tensor2D, features: tf.Tensor2D): { onehot: tf.Scalar; activation: tf.Scalar; entropy: tf.Scalar } {
  return tf.tidy(() => {
    const predicted = tf.argMax(logits, 1) as tf.Tensor1D;
    const p = tf.mean(tf.softmax(logits), 0);
    return {
      onehot: crossEntropy(logits, predicted),
      activation: tf.neg(tf.mean(tf.abs(features))) as tf.Scalar,
      entropy: tf.sum(tf.mul(p, tf.log(p))) as tf.Scalar,
    };
  });
}

export const dafl = defineMethod({
  id: 'dafl',
  title: 'DAFL: data-free learning with a teacher-driven generator',
  paper: {
    authors: 'H. Chen, Y. Wang, C. Xu, Z. Yang, C. Liu, B. Shi, C. Xu, C. Xu, Q. Tian',
    title: 'Data-Free Learning of Student Networks',
    venue: 'ICCV',
    year: 2019,
    url: 'https://arxiv.org/abs/1904.01186',
  },
  family: 'data-free',
  knowledge: 'response',
  scheme: 'offline',
  teacher: 'required',
  data: 'none',
  defaults: { oh: 0.05, ie: 5, a: 0.01, latent: 1000, width: 64, lrG: 0.02 },
  hyperDocs: {
    oh: 'weight of the one-hot loss (CE of the teacher against its own argmax) in the generator loss',
    ie: 'weight of the information-entropy loss (negative entropy of the batch-mean teacher softmax)',
    a: 'weight of the activation loss (minus the mean |pooled teacher feature|)',
    latent: 'generator latent size',
    width: "generator base width (the reference generator's 64)",
    lrG: 'generator learning rate (Adam, constant)',
  },
  smallHyper: { latent: 16, width: 4 },
  deviations:
    'The student uses the protocol SGD, batch size and schedule (the authors: batch 1024, SGD lr 0.1 x0.1 at 800/1600 of 2000 ' +
    'epochs of 120 generated batches); the synthesis budget is the main stage epochs x steps of a real epoch.',
  create: (ctx) => {
    const { hp } = ctx;
    return generatorGame(ctx, {
      sameCodes: true,
      generatorLosses: (images) => {
        const t = ctx.teacher.forward(images, { training: false });
        const l = daflLosses(t.logits, t.embedding);
        return { onehot: tf.mul(l.onehot, hp.oh), activation: tf.mul(l.activation, hp.a), entropy: tf.mul(l.entropy, hp.ie) };
      },
      studentLosses: (io) => ({ kd: softTargetKL(io.student.logits, io.teacher.logits, 1) }),
    });
  },
});
