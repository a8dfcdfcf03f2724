/**
 * AB: B. Heo, M. Lee, S. Yun, J. Y. Choi, "Knowledge Transfer via Distillation of Activation
 * Boundaries Formed by Hidden Neurons", AAAI 2019 (arXiv:1811.03233).
 *
 * The student learns where the teacher's neurons switch on and off: on pre-ReLU features, with a
 * connector r mapping the student's to the teacher's shape, the alternative (hinge-like) loss
 *   sum (r(s) + m)^2 [r(s) > -m and t <= 0] + (r(s) - m)^2 [r(s) <= m and t > 0],  margin m = 1,
 * is minimised as an initialisation stage that trains the student and the connectors, followed by
 * ordinary training. CRD benchmark settings (RepDistiller `abound`): every stage output
 * (feat[1:-1], pre-activation), layer weights 2^(i - n + 1) (deepest 1), each layer's sum divided
 * by the batch size and scaled by 3/1000; connectors are identities where shapes agree and
 * conv + BN (no ReLU) otherwise; 30 initialisation epochs of 240 (scaled here to the run); the
 * main stage is CE only.
 */
import { ConvReg, ModuleGroup, crossEntropy, defineMethod, moduleSeed, scaleEpochs, stagePairs, stageShapes } from '@kdbench/core';
import { tf } from '@kdbench/engine';

/** The alternative AB loss of one layer, summed over all elements (not averaged). */
export function activationBoundaryLoss(source: tf.Tensor, target: tf.Tensor, margin: number): tf.Scalar {
  return tf.tidy(() => {
    // indicator masks from tf.step (zero gradient), not comparisons (no gradient at all in tfjs)
    const on = tf.step(target); // t > 0
    const off = tf.sub(1, on); // t <= 0
    const aboveLow = tf.step(tf.add(source, margin)); // s > -m
    const notAboveHigh = tf.sub(1, tf.step(tf.sub(source, margin))); // s <= m
    return tf.sum(
      tf.add(
        tf.mul(tf.square(tf.add(source, margin)), tf.mul(aboveLow, off)),
        tf.mul(tf.square(tf.sub(source, margin)), tf.mul(notAboveHigh, on)),
      ),
    ) as tf.Scalar;
  });
}

/**
 * The weighted AB loss of each layer pair (source = connector output, target = teacher pre-ReLU):
 * RepDistiller's sum of the layer's loss scaled by 2^(i - n + 1) * 3 / (1000 * batch).
 */
export function abLayerLosses(pairs: readonly [tf.Tensor, tf.Tensor][], margin: number): tf.Scalar[] {
  const n = pairs.length;
  return pairs.map(([source, target], i) => {
    const batch = source.shape[0]!;
    return tf.tidy(() => tf.mul(activationBoundaryLoss(source, target, margin), (2 ** (i - n + 1) * 3) / (1000 * batch)) as tf.Scalar);
  });
}

export const ab = defineMethod({
  id: 'ab',
  title: 'Activation-boundary transfer (initialisation stage)',
  paper: {
    authors: 'B. Heo, M. Lee, S. Yun, J. Y. Choi',
    title: 'Knowledge Transfer via Distillation of Activation Boundaries Formed by Hidden Neurons',
    venue: 'AAAI',
    year: 2019,
    url: 'https://arxiv.org/abs/1811.03233',
  },
  family: 'feature',
  knowledge: 'feature',
  scheme: 'offline',
  teacher: 'required',
  defaults: { gamma: 1, margin: 1, initEpochs: 30 },
  hyperDocs: {
    gamma: 'weight of the cross-entropy with labels in the main stage',
    margin: 'margin m of the activation-boundary loss',
    initEpochs: 'initialisation epochs in a 240-epoch schedule (scaled: initEpochs * epochs / 240, at least 1)',
  },
  deviations:
    'Follows the CRD benchmark: the paper transfers at the end of each stage with its own connector weights and trains with KD afterwards; here the main stage is CE only. The initialisation stage also lists the student classifier among its variables; it receives no gradient from the AB loss, so it is not updated, as in the reference.',
  create: ({ hp, studentShapes, teacherShapes, rng, epochs, student }) => {
    const ss = stageShapes(studentShapes);
    const ts = stageShapes(teacherShapes);
    if (ss.length !== ts.length) {
      throw new Error(`ab: student and teacher have different numbers of stages (${ss.length - 1} vs ${ts.length - 1}); the CRD benchmark's connector requires equal lists`);
    }
    const connectors = stagePairs(ss, ts).map(([s, t], i) =>
      s.channels === t.channels && s.height === t.height && s.width === t.width
        ? null
        : new ConvReg(s, t, moduleSeed(rng, `ab.connector${i}`), false),
    );
    const group = new ModuleGroup(connectors.filter((c): c is ConvReg => c !== null));
    return {
      parts: { connectors: group },
      procedure: {
        stages: [{
          name: 'ab-init',
          epochs: scaleEpochs(hp.initEpochs, epochs),
          variables: () => [...student.trainableVariables(), ...group.trainableVariables()],
          losses: (io) => {
            const pairs = stagePairs(io.student.features, io.teacher.features)
              .map(([s, t], i): [tf.Tensor, tf.Tensor] => [connectors[i] ? connectors[i].apply(s.pre) : s.pre, t.pre]);
            return { ab: tf.addN(abLayerLosses(pairs, hp.margin)) as tf.Scalar };
          },
        }],
      },
      losses: (io) => ({ ce: tf.mul(crossEntropy(io.student.logits, io.labels), hp.gamma) }),
    };
  },
});
