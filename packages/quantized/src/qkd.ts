/**
 * QKD: J. Kim, Y. Bhalgat, J. Lee, C. Patel, N. Kwak, "QKD: Quantization-aware Knowledge
 * Distillation", arXiv:1911.12491, 2019 (https://arxiv.org/abs/1911.12491).
 *
 * Quantisation and distillation coordinated in three phases, run here as training stages:
 * 1. self-studying (stage `selfstudy`): the quantised student learns from labels alone, for a good
 *    low-precision starting point:   L_S = CE(y, p_S);
 * 2. co-studying (stage `costudy`): teacher and quantised student are trained together and learn
 *    from each other, which makes the teacher more quantisation-friendly (each target is held
 *    constant for the other network's term, as in deep mutual learning):
 *      L_S = CE(y, p_S) + T^2 KL(p_T^T || p_S^T),   L_T = CE(y, p_T) + T^2 KL(p_S^T || p_T^T);
 * 3. tutoring (the main stage): the co-studied teacher is fixed and the student distils from it:
 *      L_S = CE(y, p_S) + T^2 KL(p_T^T || p_S^T).
 * p^T is a softmax at temperature T. The teacher starts from the trained full-precision teacher of
 * the store; it is declared in `networks`, so its co-studied weights are checkpointed, and its
 * accuracy is recorded after each co-studying epoch and reported after training as `costudied_teacher`.
 * Phase lengths: selfStudy and coStudy are fractions of the protocol's epochs (at least one epoch
 * each, 0 skips the phase); tutoring runs the protocol's epochs with its learning-rate schedule.
 *
 * No public code from the authors (searched: the code corpus for the paper's title and its three
 * phases; only third-party implementations).
 */
import { crossEntropy, defineMethod, softTargetKL, stopGradient, type LossTerms, type TrainingStage } from '@kdbench/core';
import { tf } from '@kdbench/engine';
import { QUANT_DEFAULTS, QUANT_DOCS, quantizedStudent, sizeRecord } from './shared/student.js';

export const qkd = defineMethod({
  id: 'qkd',
  title: 'QKD (self-studying, co-studying, tutoring)',
  paper: {
    authors: 'J. Kim, Y. Bhalgat, J. Lee, C. Patel, N. Kwak',
    title: 'QKD: Quantization-aware Knowledge Distillation',
    venue: 'arXiv',
    year: 2019,
    url: 'https://arxiv.org/abs/1911.12491',
  },
  family: 'quantized',
  knowledge: 'response',
  scheme: 'offline',
  teacher: 'required',
  defaults: { ...QUANT_DEFAULTS, T: 2, selfStudy: 0.25, coStudy: 0.5 },
  hyperDocs: {
    ...QUANT_DOCS,
    T: 'softmax temperature of the KL terms (co-studying and tutoring)',
    selfStudy: "length of the self-studying phase as a fraction of the protocol's epochs (0 skips it)",
    coStudy: "length of the co-studying phase as a fraction of the protocol's epochs (0 skips it)",
  },
  deviations:
    'QKD learns the quantisation intervals of weights and activations (a QIL-style trainable quantiser) and its self-studying phase fine-tunes a '
    + 'pre-trained full-precision student; here the shared quantiser is used (per-channel max-scaled weights, TWN ternary at 2 bits, PACT-style learned '
    + 'activation clips), self-studying starts from the student initialisation every method uses, the phases are shortened to fractions of the '
    + 'protocol epochs, the teacher shares the student optimiser and learning rate while co-studying, and T = 2 is our choice.',
  create: (ctx) => {
    const { hp } = ctx;
    for (const k of ['selfStudy', 'coStudy'] as const) {
      if (!(hp[k] >= 0)) throw new Error(`qkd: ${k} must be a fraction >= 0 of the protocol's epochs, got ${hp[k]}`);
    }
    const teacher = ctx.teacher;
    const student = quantizedStudent(ctx);
    const epochsOf = (fraction: number) => (fraction > 0 ? Math.max(1, Math.round(fraction * ctx.epochs)) : 0);
    const tutoring = (s: tf.Tensor2D, t: tf.Tensor2D, labels: tf.Tensor1D): LossTerms => ({
      ce: crossEntropy(s, labels),
      kd: softTargetKL(s, t, hp.T),
    });
    const phases: TrainingStage[] = [
      {
        name: 'selfstudy',
        epochs: epochsOf(hp.selfStudy),
        variables: () => student.trainableVariables(),
        losses: (io) => ({ ce: crossEntropy(io.student.logits, io.labels) }),
      },
      {
        name: 'costudy',
        epochs: epochsOf(hp.coStudy),
        variables: () => [...student.trainableVariables(), ...teacher.trainableVariables()],
        evaluate: teacher,
        losses: (io) => {
          const s = io.student.logits;
          const t = teacher.forward(io.x, { training: true }).logits;
          return {
            ...tutoring(s, stopGradient(t), io.labels),
            teacher_ce: crossEntropy(t, io.labels),
            teacher_kd: softTargetKL(t, stopGradient(s), hp.T),
          };
        },
      },
    ];
    const stages = phases.filter((st) => st.epochs > 0);
    return {
      procedure: { student, stages, networks: { teacher: { model: teacher, trainInMain: false } } },
      parts: { size: { metrics: (evaluate) => ({ ...sizeRecord(student), costudied_teacher: evaluate(teacher).top1 }) } },
      losses: (io) => tutoring(io.student.logits, io.teacher.logits, io.labels),
    };
  },
});
