/**
 * QAT: quantisation-aware training without a teacher, the baseline of the quantized family.
 * B. Jacob, S. Kligys, B. Chen et al., "Quantization and Training of Neural Networks for Efficient
 * Integer-Arithmetic-Only Inference", CVPR 2018 (arXiv:1712.05877, https://arxiv.org/abs/1712.05877).
 *
 * The student is trained through the fake quantiser with the straight-through estimator: the forward
 * pass (training and evaluation) uses quantised weights and activations, the optimiser updates the
 * full-precision shadow weights (quantize.ts). The loss is the label cross-entropy alone:
 *   loss = CE(y, softmax(s_q)),
 * with s_q the quantised student's logits. Compared with `vanilla` it isolates the cost of the bits;
 * compared with quantdistill / apprentice / qkd it isolates the gain of distillation.
 *
 * No distillation loss to check (label cross-entropy only); the paper's quantiser, released with
 * TensorFlow, is replaced on purpose by the shared one (see deviations) and was not compared.
 */
import { crossEntropy, defineMethod } from '@kdbench/core';
import { QUANT_DEFAULTS, QUANT_DOCS, quantizedStudent, sizeRecord } from './shared/student.js';

export const qat = defineMethod({
  id: 'qat',
  title: 'Quantisation-aware training (fake quantisation, labels only)',
  paper: {
    authors: 'B. Jacob, S. Kligys, B. Chen, M. Zhu, M. Tang, A. Howard, H. Adam, D. Kalenichenko',
    title: 'Quantization and Training of Neural Networks for Efficient Integer-Arithmetic-Only Inference',
    venue: 'CVPR',
    year: 2018,
    url: 'https://arxiv.org/abs/1712.05877',
  },
  family: 'quantized',
  knowledge: 'none',
  scheme: 'offline',
  teacher: 'none',
  defaults: { ...QUANT_DEFAULTS },
  hyperDocs: { ...QUANT_DOCS },
  deviations:
    'Jacob et al. use asymmetric 8-bit ranges tracked by moving averages and fold batch norm into the weights; '
    + 'every quantized method here shares one quantiser instead (symmetric per-channel weights, TWN ternary at 2 bits, '
    + 'PACT-style learned activation clips, batch norm kept in fp32), so that the methods differ only in their training procedure.',
  create: (ctx) => {
    const student = quantizedStudent(ctx);
    return {
      procedure: { student },
      parts: { size: { metrics: () => sizeRecord(student) } },
      losses: (io) => ({ ce: crossEntropy(io.student.logits, io.labels) }),
    };
  },
});
