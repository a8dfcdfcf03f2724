/**
 * Supervision transfer: S. Gupta, J. Hoffman and J. Malik, "Cross Modal Distillation for
 * Supervision Transfer", CVPR 2016 (arXiv:1507.00448, https://arxiv.org/abs/1507.00448).
 *
 * A network trained on a labeled modality (the teacher, RGB) supervises a network for a modality
 * without labels (the student, here gray / low8 / low16 / edge derived from the same CIFAR image):
 * on paired unlabeled images, the student learns to reproduce the teacher's mid-level
 * representation of the paired RGB image. Here the paired images are the training split's images
 * (the student sees each through its modality, the teacher the RGB original), no label is read
 * (`data: 'unlabeled'`, enforced by the trainer), and the loss is
 *   loss = beta * MSE(r(f_s), f_t) + alpha * T^2 * KL(softmax(t/T) || softmax(s/T)),
 * f the last stage's output (the paper's last convolutional layer), r the identity when student
 * and teacher maps have the same shape and FitNet's regressor (ConvReg) otherwise.
 * Defaults: beta = 100 (the CRD benchmark's FitNet weight for an MSE of feature maps), alpha = 1,
 * T = 4 (the CRD benchmark's KD temperature).
 *
 * The authors' release (s-gupta/fast-rcnn, branch distillation @ da935a1: README.md,
 * data/init_models/README.md, experiments/train_models.sh) ships the supervision-transferred
 * weights (ST_vgg_to_alexnet_hha) and the detection fine-tuning, not the transfer training or its
 * loss, so the feature-matching term could not be checked against it (searched: the code corpus for
 * the paper's title).
 */
import { ConvReg, defineMethod, meanSquaredError, moduleSeed, softTargetKL, stageShapes, type Part } from '@kdbench/core';
import { tf } from '@kdbench/engine';
import { MODALITY_DOC, STUDENT_MODALITIES, modalityStudent } from './shared/modality.js';

export const paper = {
  authors: 'S. Gupta, J. Hoffman, J. Malik',
  title: 'Cross Modal Distillation for Supervision Transfer',
  venue: 'CVPR',
  year: 2016,
  url: 'https://arxiv.org/abs/1507.00448',
};

export const suptransfer = defineMethod({
  id: 'suptransfer',
  title: 'Supervision transfer across modalities (label-free)',
  paper,
  family: 'cross-modal',
  knowledge: 'feature',
  scheme: 'offline',
  teacher: 'required',
  data: 'unlabeled',
  defaults: { modality: 'gray', beta: 100, alpha: 1, T: 4 },
  hyperChoices: { modality: STUDENT_MODALITIES },
  hyperDocs: {
    modality: MODALITY_DOC,
    beta: 'weight of the MSE between the student\'s and the teacher\'s last-stage feature maps',
    alpha: 'weight of the T^2-scaled KL to the teacher\'s soft targets (trains the classifier without labels)',
    T: 'softmax temperature of teacher and student',
  },
  deviations:
    'The paper transfers the mid-level representation only and then fine-tunes with labels for its detection task; ' +
    'here the student must classify without ever reading a label, so the teacher\'s soft targets (KD) train its ' +
    'classifier alongside the feature matching. Student and teacher are different CIFAR networks, so a FitNet ' +
    'regressor maps the student\'s feature map to the teacher\'s when their shapes differ.',
  create: (ctx) => {
    const { hp } = ctx;
    const student = modalityStudent('suptransfer', ctx);
    const s = stageShapes(ctx.studentShapes).at(-1)!;
    const t = stageShapes(ctx.teacherShapes).at(-1)!;
    const same = s.channels === t.channels && s.height === t.height && s.width === t.width;
    const regressor = same ? null : new ConvReg(s, t, moduleSeed(ctx.rng, 'suptransfer-regressor'));
    const parts: Record<string, Part> = regressor ? { regressor } : {};
    return {
      procedure: { student },
      parts,
      losses: (io) => {
        const fs = io.student.features.at(-1)!.post;
        return {
          features: tf.mul(meanSquaredError(regressor ? regressor.apply(fs) : fs, io.teacher.features.at(-1)!.post), hp.beta),
          kd: tf.mul(softTargetKL(io.student.logits, io.teacher.logits, hp.T), hp.alpha),
        };
      },
    };
  },
});
