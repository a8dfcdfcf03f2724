import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, meanSquaredError, softTargetKL } from '@kdbench/core';
import { leakOf, disposeInstance } from '@kdbench/core/testing';
import { tf } from '@kdbench/engine';
import { createModel } from '@kdbench/models';
import { twoteacher } from '../src/twoteacher.js';
import { realContext, realNetworks, realStep, value } from './helpers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('twoteacher (Chen et al. 2019): a response teacher and a feature teacher', () => {
  it('KD from the run\'s teacher, the hint from the feature teacher', () => {
    const nets = realNetworks(2);
    const inst = twoteacher.create(realContext(twoteacher, nets));
    const regressor = inst.parts!.regressor as unknown as { apply(x: tf.Tensor4D): tf.Tensor4D; trainableVariables(): tf.Variable[] };
    const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 6) as tf.Tensor4D;
    tf.tidy(() => {
      const io = realStep(nets, x, [1, 2]);
      const terms = inst.losses(io);
      expect(Object.keys(terms)).toEqual(['ce', 'kd', 'hint']);
      expect(value(terms.kd!)).toBeCloseTo(0.9 * value(softTargetKL(io.student.logits, io.teacher!.logits, 4)), 5);
      // the hint compares with the extra teacher's stage 2, not the run's teacher's
      const hint = meanSquaredError(regressor.apply(io.student.features[2]!.post), io.teachers![0]!.features[2]!.post);
      expect(value(terms.hint!)).toBeCloseTo(100 * value(hint), 3);
      const vars = [...nets.student.trainableVariables(), ...regressor.trainableVariables()];
      const { grads } = tf.variableGrads(() => inst.losses(realStep(nets, x, [1, 2])).hint!, vars);
      for (const v of regressor.trainableVariables().filter((v) => /weight|gamma/.test(v.name))) {
        expect(tf.max(tf.abs(grads[v.name]!)).dataSync()[0]).toBeGreaterThan(0);
      }
    });
    expect(leakOf(() => inst.losses(realStep(nets, x, [1, 2])))).toBe(0);
    disposeInstance(inst);
    x.dispose();
    for (const m of [nets.student, nets.teacher, ...nets.extra]) m.dispose();
  });

  it('one feature teacher other than the run\'s teacher', () => {
    expect(twoteacher.extraTeachers!(twoteacher.defaults, 'resnet32')).toEqual([{ model: 'resnet32', seed: 1 }]);
    expect(() => twoteacher.extraTeachers!({ ...twoteacher.defaults, featureTeacher: 'resnet8:1,resnet14:2' }, 'resnet32')).toThrow(ConfigError);
    const nets = realNetworks(1);
    const copy = createModel('resnet14', { numClasses: 10, seed: 100, widthFactor: 0.25 });
    expect(() => twoteacher.create(realContext(twoteacher, { ...nets, extra: [copy] }))).toThrow(/other than the run's teacher/);
    const other = createModel('resnet14', { numClasses: 10, seed: 101, widthFactor: 0.25 });
    expect(() => twoteacher.create(realContext(twoteacher, { ...nets, extra: [other] }, { layer: 7 }))).toThrow(/layer must be a stage index 1\.\.3/);
    for (const m of [nets.student, nets.teacher, copy, other]) m.dispose();
  });
});
