import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@kdbench/engine';
import { softCrossEntropy } from '../src/losses/soft-cross-entropy.js';
import { softTargetKL } from '../src/losses/kl.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('softCrossEntropy', () => {
  it('equals the hand-computed value (TOFD at its first epoch: T = 1.012)', () => {
    // s/T = [0.988142, 0], t/T = [0, 0.988142]: p_t = [0.271279, 0.728721],
    // log p_s = [-0.316465, -1.304607]; H = 0.271279 * 0.316465 + 0.728721 * 1.304607 = 1.036544
    const s = tf.tensor2d([[1, 0]]);
    const t = tf.tensor2d([[0, 1]]);
    expect(softCrossEntropy(s, t, 1.012).dataSync()[0]).toBeCloseTo(1.036544, 5);
    tf.dispose([s, t]);
  });

  it('averages over the batch and exceeds the KL by the teacher entropy (no T^2)', () => {
    const s = tf.tensor2d([[1, 2, 0], [0.5, -1, 2]]);
    const t = tf.tensor2d([[2, 0, 1], [0, 0, 0]]);
    const T = 2;
    const pt = tf.softmax(tf.div(t, T));
    const entropy = tf.neg(tf.mean(tf.sum(tf.mul(pt, tf.log(pt)), 1))).dataSync()[0]!;
    const kl = softTargetKL(s, t, T).dataSync()[0]! / (T * T);
    expect(softCrossEntropy(s, t, T).dataSync()[0]).toBeCloseTo(kl + entropy, 5);
    tf.dispose([s, t, pt]);
  });

  it('sends (p_s - p_t) / (B T) into the student logits and refuses T <= 0', () => {
    const s = tf.tensor2d([[1, 2, 0]]);
    const t = tf.tensor2d([[2, 0, 1]]);
    const g = tf.grad((x: tf.Tensor) => softCrossEntropy(x as tf.Tensor2D, t, 1))(s);
    const expected = tf.sub(tf.softmax(s), tf.softmax(t));
    const gv = Array.from(g.dataSync());
    Array.from(expected.dataSync()).forEach((e, i) => expect(gv[i]).toBeCloseTo(e, 6));
    expect(() => softCrossEntropy(s, t, 0)).toThrow(/temperature must be > 0, got 0/);
    tf.dispose([s, t, g, expected]);
  });
});
