import { beforeAll, describe, expect, it } from 'vitest';
import { softTargetKL } from '@kdbench/core';
import { leakOf, epochStartOf } from '@kdbench/core/testing';
import { Rng, tf } from '@kdbench/engine';
import { randteacher } from '../src/randteacher.js';
import { out, step, stub, stubContext, value } from './helpers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('randteacher (Fukuda et al. 2017): one random teacher per mini-batch', () => {
  let teachers: ReturnType<typeof out>[];
  let student: ReturnType<typeof out>;
  const kdTo = (k: number) => 0.9 * value(softTargetKL(student.logits, teachers[k]!.logits, 4));
  beforeAll(() => {
    teachers = [out([[3, 0, 0]]), out([[0, 3, 0]]), out([[0, 0, 3]])];
    student = out([[0.5, 0.2, -0.1]]);
  });

  it('each batch learns from the teacher drawn by the run\'s Rng forked per epoch', () => {
    const seed = 5;
    const inst = randteacher.create(stubContext(randteacher, {}, stub('resnet20', 0), [stub('resnet20', 1), stub('resnet20', 2)], seed));
    const seen = new Set<number>();
    for (const epoch of [0, 1]) {
      epochStartOf(inst, epoch);
      const replica = new Rng(seed).fork(epoch); // the draws an independent replica predicts
      for (let b = 0; b < 6; b++) {
        const k = replica.int(3);
        seen.add(k);
        expect(value(inst.losses(step(student, teachers[0]!, teachers.slice(1), [0], epoch)).kd!)).toBeCloseTo(kdTo(k), 6);
      }
    }
    expect(seen.size).toBe(3);
  });

  it('no tensor leak; at least two teachers', () => {
    const inst = randteacher.create(stubContext(randteacher, {}, stub('resnet20', 0), [stub('resnet20', 1), stub('resnet20', 2)]));
    expect(leakOf(() => inst.losses(step(student, teachers[0]!, teachers.slice(1), [0])))).toBe(0);
    expect(() => randteacher.create(stubContext(randteacher, {}, stub('resnet20', 0), []))).toThrow(/at least 2 distinct teachers/);
  });
});
