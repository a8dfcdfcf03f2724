import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, tf } from '@kdbench/engine';
import { createModel, type Model } from '@kdbench/models';
import { methodContext, type Hyper, type MethodDefinition } from '@kdbench/core';
import { relationMethods } from '../src/index.js';
import { io } from './helpers.js';
import { stagesOf, afterStepOf, disposeInstance } from '@kdbench/core/testing';

let student: Model;
let teacher: Model;

beforeAll(async () => {
  await tf.setBackend('cpu');
  student = createModel('resnet8', { numClasses: 10, seed: 0, widthFactor: 0.25 });
  teacher = createModel('resnet8', { numClasses: 10, seed: 1, widthFactor: 0.25 });
});

describe('relation methods on real resnet8 features (width 0.25, batch 4)', () => {
  it('every method builds and returns finite loss terms', () => {
    expect(relationMethods.map((m) => m.id)).toEqual(['fsp', 'sp', 'cc', 'rkd', 'pkt', 'crd', 'crdkd']);
    const x = tf.randomNormal([4, 32, 32, 3], 0, 1, 'float32', 0) as tf.Tensor4D;
    const ids = Int32Array.from({ length: 20 }, (_, i) => i);
    const train = { images: new Uint8Array(0), ids, labels: ids.map((i) => i % 10), n: 20 };
    for (const def of relationMethods as MethodDefinition<Hyper>[]) {
      const inst = def.create(methodContext({
        hp: def.defaults, numClasses: 10, student, teacher, train, epochs: 8, batchSize: 4, rng: new Rng(0),
      }));
      tf.tidy(() => {
        const s = student.forward(x, { training: true });
        const t = teacher.forward(x, { training: false });
        const batch = { ...io(s, t, [3, 17, 8, 11]), x, labels: tf.tensor1d([0, 1, 2, 3], 'int32') };
        const stageTerms = (stagesOf(inst) ?? []).map((st) => st.losses(batch));
        for (const terms of [inst.losses(batch), ...stageTerms]) {
          for (const [k, v] of Object.entries(terms)) expect(Number.isFinite(v.dataSync()[0]!), `${def.id}.${k}`).toBe(true);
        }
      });
      afterStepOf(inst);
      disposeInstance(inst);
    }
    x.dispose();
  });
});
