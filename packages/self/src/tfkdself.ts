/**
 * Tf-KD (self-training): L. Yuan, F. E. H. Tay, G. Li, T. Wang, J. Feng, "Revisiting Knowledge
 * Distillation via Label Smoothing Regularization", CVPR 2020 (arXiv:1909.11723,
 * https://arxiv.org/abs/1909.11723); "Tf-KD_self".
 *
 * Teacher-free KD, first variant: the student's own architecture, trained normally, is the teacher.
 * A first stage trains that self-teacher (a fresh network of the student's architecture) with
 * cross-entropy for the protocol's epochs and schedule; the main stage trains the student with
 *   (1 - alpha) * CE(s, y) + alpha * (multiplier / 100) * T^2 * KL(softmax(t/T) || softmax(s/T)).
 * The authors' code computes the KL with nn.KLDivLoss's element mean, i.e. divided by the class
 * count, and multiplies it by a per-model `multiplier`; their CIFAR configurations are all CIFAR-100,
 * so the division is by 100, which we keep as a constant (CIFAR-10 runs get the same weights).
 * Defaults: the authors' CIFAR-100 ResNet18 configuration (alpha 0.95, T 6, multiplier 50), the
 * closest of their models to kdbench's CIFAR ResNets (MobileNetV2 and ShuffleNetV2 used T 20,
 * multiplier 1; ResNeXt29 alpha 0.9, T 20, multiplier 100). The self-teacher's accuracy is reported.
 *
 * Checked against the authors' code: yuanli2333/Teacher-free-Knowledge-Distillation
 * my_loss_function.py (loss_kd_self) and
 * experiments/kd_experiments/resnet18_distill/resnet18_self_teacher/params.json @ d000ab3:
 * (1 - alpha) CE + alpha * multiplier * T^2 * KLDivLoss (element mean, so divided by the 100
 * classes) with alpha 0.95, T 6, multiplier 50 match.
 */
import { crossEntropy, defineMethod, softTargetKL, stopGradient } from '@kdbench/core';
import { tf } from '@kdbench/engine';
import { TFKD_PAPER } from './shared/tfkd-paper.js';

export const tfkdself = defineMethod({
  id: 'tfkdself',
  title: 'Teacher-free KD: self-teacher',
  paper: TFKD_PAPER,
  family: 'self',
  knowledge: 'response',
  scheme: 'self',
  teacher: 'none',
  defaults: { alpha: 0.95, T: 6, multiplier: 50 },
  hyperDocs: {
    alpha: 'weight of the KD term, 1 - alpha on the CE (0.95: authors\' CIFAR-100 ResNet18 configuration)',
    T: 'softmax temperature of self-teacher and student (6 for ResNet18 in the authors\' code)',
    multiplier: 'extra KD factor of the authors\' code, applied with their 1/100 class-count division (50 for ResNet18)',
  },
  deviations: '',
  create: (ctx) => {
    const { hp } = ctx;
    const teacher = ctx.createNetwork('selfteacher');
    const kdWeight = (hp.alpha * hp.multiplier) / 100;
    return {
      procedure: {
        networks: { selfteacher: { model: teacher, trainInMain: false } },
        stages: [{
          name: 'selfteacher',
          epochs: ctx.epochs,
          schedule: true,
          evaluate: teacher,
          variables: () => teacher.trainableVariables(),
          losses: (io) => ({ ce: crossEntropy(teacher.forward(io.x, { training: true }).logits, io.labels) }),
        }],
      },
      parts: { selfteacher: { metrics: (evaluate) => ({ selfteacher: evaluate(teacher).top1 }) } },
      losses: (io) => {
        const t = stopGradient(teacher.forward(io.x, { training: false }).logits);
        return {
          ce: tf.mul(crossEntropy(io.student.logits, io.labels), 1 - hp.alpha),
          kd: tf.mul(softTargetKL(io.student.logits, t, hp.T), kdWeight),
        };
      },
    };
  },
});
