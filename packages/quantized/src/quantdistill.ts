/**
 * Quantized distillation: A. Polino, R. Pascanu, D. Alistarh, "Model compression via distillation
 * and quantization", ICLR 2018 (arXiv:1802.05668, https://arxiv.org/abs/1802.05668).
 *
 * The student keeps full-precision shadow weights w; each step runs the forward pass with the
 * quantised weights Q(w) (and here also quantised activations), computes the distillation loss of
 * the quantised student against the full-precision teacher, and applies its gradient (taken with
 * respect to Q(w), i.e. the straight-through estimator) to w (the paper's Algorithm 1):
 *   loss = (1 - alpha) * CE(y, softmax(s_q)) + alpha * T^2 * KL(softmax(t / T) || softmax(s_q / T)),
 * with alpha = 0.7 and T = 2, the weighting and temperature of the authors' code
 * (github.com/antspy/quantized_distillation, cnn_models/help_fun.py).
 *
 * Checked against the authors' code: antspy/quantized_distillation cnn_models/help_fun.py
 * (forward_and_backward) and cnn_models/conv_forward_model.py @ bb500b7:
 * 0.7 * T^2 * KLDivLoss(log_softmax(s/T), softmax(t/T)) + 0.3 * CE with the teacher detached and
 * T = 2 (the function's default, which its callers never override) match for the default
 * ask_teacher_strategy 'always'; the KL's element mean is the difference stated in deviations.
 */
import { crossEntropy, defineMethod, softTargetKL } from '@kdbench/core';
import { tf } from '@kdbench/engine';
import { QUANT_DEFAULTS, QUANT_DOCS, quantizedStudent, sizeRecord } from './shared/student.js';

export const quantdistill = defineMethod({
  id: 'quantdistill',
  title: 'Quantized distillation (KD into a fake-quantised student)',
  paper: {
    authors: 'A. Polino, R. Pascanu, D. Alistarh',
    title: 'Model compression via distillation and quantization',
    venue: 'ICLR',
    year: 2018,
    url: 'https://arxiv.org/abs/1802.05668',
  },
  family: 'quantized',
  knowledge: 'response',
  scheme: 'offline',
  teacher: 'required',
  teacherOutputs: 'logits',
  defaults: { ...QUANT_DEFAULTS, T: 2, alpha: 0.7 },
  hyperDocs: {
    ...QUANT_DOCS,
    T: 'softmax temperature of teacher and student',
    alpha: 'weight of the distillation term; the label cross-entropy gets 1 - alpha',
  },
  deviations:
    'Polino et al. quantise only the weights, with min-max scaling in buckets of 256 values and the first and last layers in full precision; '
    + 'here the shared quantiser is used (symmetric per-channel weights, TWN ternary at 2 bits, quantised activations, first and last layers at edgeBits), '
    + 'and the KL term is averaged over the batch only, whereas their code averaged it over classes too (PyTorch 0.3 KLDivLoss), which divides it by the number of classes.',
  create: (ctx) => {
    const { hp } = ctx;
    if (!(hp.alpha >= 0 && hp.alpha <= 1)) throw new Error(`quantdistill: alpha must lie in [0, 1], got ${hp.alpha}`);
    const student = quantizedStudent(ctx);
    return {
      procedure: { student },
      parts: { size: { metrics: () => sizeRecord(student) } },
      losses: (io) => ({
        ce: tf.mul(crossEntropy(io.student.logits, io.labels), 1 - hp.alpha),
        kd: tf.mul(softTargetKL(io.student.logits, io.teacher.logits, hp.T), hp.alpha),
      }),
    };
  },
});
