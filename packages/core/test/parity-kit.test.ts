import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@kdbench/engine';
import { fixtureGrad, fixtureInput, gradFindings, lossFindings, parityDir, readParityFixture } from '../src/testing/parity.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('loss-parity kit', () => {
  it('reads every fixture of the folder, and names the file of a missing one', () => {
    for (const id of ['kd', 'fitnet_hint', 'at', 'sp', 'cc', 'vid', 'rkd', 'pkt', 'nst', 'fsp', 'ft', 'ab', 'dkd', 'crd']) {
      const fx = readParityFixture(id);
      expect(fx.id).toBe(id);
      expect(Object.keys(fx.grads).length).toBeGreaterThan(0);
    }
    expect(() => readParityFixture('nope')).toThrow(parityDir());
  });

  it('loss: accepts within 1e-4 relative, reports beyond', () => {
    const fx = readParityFixture('kd');
    const r = fx.output as number;
    expect(lossFindings(fx, r * (1 + 5e-5))).toEqual([]);
    expect(lossFindings(fx, r * (1 + 2e-4))).toEqual([`kd: loss[0] = ${r * (1 + 2e-4)}, reference ${r}`]);
    expect(lossFindings(fx, [r, r])).toEqual(['kd: 2 loss values, the fixture has 1']);
  });

  it('gradients: the recorded gradient passes, one perturbed entry is reported with its index', () => {
    const fx = readParityFixture('kd');
    const g = fixtureGrad(fx, 'y_s');
    expect(gradFindings(fx, 'y_s', g)).toEqual([]);
    const data = g.dataSync().slice();
    data[3] = data[3]! * 1.01 + 1e-3;
    const bad = tf.tensor(data, g.shape);
    const found = gradFindings(fx, 'y_s', bad);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^kd: d\/dy_s\[3\] = /);
    expect(gradFindings(fx, 'y_s', tf.zeros([2, 2]))[0]).toMatch(/has shape \[2,2\], reference \[8,10\]/);
  });

  it('transposes NCHW inputs to NHWC, OIHW weights to HWIO and linear weights to [in, out]', () => {
    const at = readParityFixture('at');
    const raw = at.inputs['g_s.0']!; // [8, 8, 6, 6] NCHW
    const nhwc = fixtureInput(at, 'g_s.0');
    expect(nhwc.shape).toEqual([8, 6, 6, 8]);
    // element (n=1, c=2, h=3, w=4)
    expect(nhwc.arraySync() as number[][][][]).toSatisfy((a: number[][][][]) => a[1]![3]![4]![2] === Math.fround(raw.data[((1 * 8 + 2) * 6 + 3) * 6 + 4]!));
    const vid = readParityFixture('vid');
    expect(fixtureInput(vid, 'regressor.0.weight', 'conv-hwio').shape).toEqual([1, 1, 8, 16]);
    const crd = readParityFixture('crd');
    expect(fixtureInput(crd, 'embed_t.linear.weight', 'linear-in-out').shape).toEqual([32, 16]);
    expect(fixtureInput(crd, 'idx').dtype).toBe('int32');
  });
});
