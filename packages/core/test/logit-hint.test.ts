import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@kdbench/engine';
import { logitHint } from '../src/losses/logit-hint.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const value = (t: tf.Scalar) => {
  const v = t.dataSync()[0]!;
  t.dispose();
  return v;
};

describe('logitHint (rocket launching, CTKD)', () => {
  it('= gamma * sum((sg(z_B) - z_L)^2) / B, by hand, with no gradient into the guide\'s logits', () => {
    const light = tf.variable(tf.tensor2d([[1, 0, 0], [0, 1, 0]]));
    const boost = tf.variable(tf.tensor2d([[2, 0, 0], [0, 0, 1]]));
    // squared differences: row 1: (2-1)^2 = 1; row 2: 1 + 1 = 2; sum 3, / B = 2 -> 1.5, x 0.03 = 0.045
    expect(value(logitHint(light, boost, 0.03, 2))).toBeCloseTo(0.045, 7);
    // the configured batch size divides, not the batch's own: B = 128 -> 0.03 * 3 / 128
    expect(value(logitHint(light, boost, 0.03, 128))).toBeCloseTo(0.03 * 3 / 128, 9);
    const { grads } = tf.variableGrads(() => logitHint(light, boost, 0.03, 2), [light, boost]);
    // d/dz_L[0,0] = -2 * gamma * (2 - 1) / B = -0.03
    expect(grads[light.name]!.arraySync()).toEqual([[expect.closeTo(-0.03, 7), 0, 0], [0, expect.closeTo(0.03, 7), expect.closeTo(-0.03, 7)]]);
    expect(tf.max(tf.abs(grads[boost.name]!)).dataSync()[0]).toBe(0);
    tf.dispose([light, boost, ...Object.values(grads)]);
  });
});
