/**
 * TAKD: S. I. Mirzadeh, M. Farajtabar, A. Li, N. Levine, A. Matsukawa, H. Ghasemzadeh, "Improved
 * Knowledge Distillation via Teacher Assistant", AAAI 2020 (arXiv:1902.03393,
 * https://arxiv.org/abs/1902.03393).
 *
 * A large teacher-student gap hurts KD, so an intermediate-size teacher assistant (TA) bridges it:
 * the TA (hp `assistant`, e.g. resnet14 between a resnet20 teacher and a resnet8 student) is first
 * trained by KD from the teacher (stage `assistant`, the protocol's epochs and schedule), then the
 * student is trained by KD from the TA. Both hops use Hinton's loss
 *   gamma * CE(z, y) + alpha * T^2 * KL(softmax(z_teacher/T) || softmax(z/T)).
 * The TA's accuracy is reported (`assistant`).
 *
 * Checked against the authors' code: imirzadeh/Teacher-Assistant-Knowledge-Distillation train.py
 * and search_space.json @ 0f8168f: (1 - lambda) CE + lambda * T^2 * KLDivLoss with the teacher in
 * eval mode, the same loss on both hops, match; T and lambda come from an NNI search
 * (T in {1, 2, 5, 10, 15, 20}, lambda 0.05..1) and the KL is element-mean, as the deviations say.
 */
import { crossEntropy, defineMethod, softTargetKL, stopGradient } from '@kdbench/core';
import { tf } from '@kdbench/engine';
import { listModels } from '@kdbench/models';

export const takd = defineMethod({
  id: 'takd',
  title: 'Teacher-assistant knowledge distillation',
  paper: {
    authors: 'S. I. Mirzadeh, M. Farajtabar, A. Li, N. Levine, A. Matsukawa, H. Ghasemzadeh',
    title: 'Improved Knowledge Distillation via Teacher Assistant',
    venue: 'AAAI',
    year: 2020,
    url: 'https://arxiv.org/abs/1902.03393',
  },
  family: 'response',
  knowledge: 'response',
  scheme: 'offline',
  teacher: 'required',
  teacherOutputs: 'logits',
  defaults: { assistant: 'resnet14', T: 4, gamma: 0.1, alpha: 0.9 },
  hyperChoices: { assistant: listModels().map((m) => m.id) },
  hyperDocs: {
    assistant: 'model id of the teacher assistant (between teacher and student in size; resnet14 for resnet20 -> resnet8)',
    T: 'softmax temperature of both KD hops',
    gamma: 'weight of the cross-entropy with labels in both hops',
    alpha: 'weight of the T^2-scaled KL term in both hops',
  },
  deviations:
    'The paper tunes T and lambda per pair by hyperparameter search (T in 1..20, lambda in 0.05..1); we use kdbench\'s KD weights (the CRD benchmark\'s T = 4, 0.1 CE + 0.9 KL) for both hops so that TAKD differs from KD only by the assistant. '
    + 'The authors\' code averages the KL over classes as well as the batch (element-mean KLDivLoss); we average over the batch.',
  create: (ctx) => {
    const { hp } = ctx;
    const assistant = ctx.createNetwork('assistant', { model: hp.assistant });
    const kdTerms = (z: tf.Tensor2D, teacher: tf.Tensor2D, labels: tf.Tensor1D) => ({
      ce: tf.mul(crossEntropy(z, labels), hp.gamma) as tf.Scalar,
      kd: tf.mul(softTargetKL(z, teacher, hp.T), hp.alpha) as tf.Scalar,
    });
    return {
      procedure: {
        networks: { assistant: { model: assistant, trainInMain: false } },
        stages: [{
          name: 'assistant',
          epochs: ctx.epochs,
          schedule: true,
          evaluate: assistant,
          variables: () => assistant.trainableVariables(),
          losses: (io) => kdTerms(assistant.forward(io.x, { training: true }).logits, io.teacher.logits, io.labels),
        }],
      },
      parts: { assistant: { metrics: (evaluate) => ({ assistant: evaluate(assistant).top1 }) } },
      losses: (io) => kdTerms(io.student.logits, stopGradient(assistant.forward(io.x, { training: false }).logits), io.labels),
    };
  },
});
