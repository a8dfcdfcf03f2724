/**
 * The adversarial methods on real (tiny) networks without the trainer: the players (discriminators,
 * generator) and the student (with its modules and peer) all move under the alternating steps,
 * losses are finite, no tensor leaks across steps, the same numbers twice under a seed.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { PartSet, methodContext, type MethodDefinition } from '@kdbench/core';
import { batchStepper, disposeInstance, fakeSplit, metricsOf } from '@kdbench/core/testing';
import { initEngine, Rng, tf } from '@kdbench/engine';
import { createModel } from '@kdbench/models';
import { abm, adversarialMethods, afd } from '../src/index.js';
import { moved, snapshot, values } from './helpers.js';

beforeAll(async () => {
  await initEngine({ backend: 'wasm' });
});

function setup(def: MethodDefinition<any>) {
  const student = createModel('resnet8', { numClasses: 10, seed: 0, widthFactor: 0.25 });
  const teacher = def.teacher === 'required' ? createModel('resnet14', { numClasses: 10, seed: 1, widthFactor: 0.25 }) : undefined;
  const inst = def.create(methodContext({
    hp: { ...def.defaults, ...def.smallHyper }, numClasses: 10, student, teacher, train: fakeSplit(16, 10), epochs: 2, batchSize: 4, rng: new Rng(3),
  }));
  return {
    student, teacher, inst,
    dispose() {
      disposeInstance(inst);
      student.dispose();
      teacher?.dispose();
    },
  };
}

function run(def: MethodDefinition<any>, steps: number) {
  const s = setup(def);
  const players = (s.inst.procedure!.players ?? []).flatMap((p) => p.variables());
  const main = new PartSet(s.inst, s.student).mainVariables();
  const before = { players: snapshot(players), main: snapshot(main) };
  const loop = batchStepper(s.inst, s.student, s.teacher);
  const losses: Record<string, number>[] = [];
  const counts: number[] = [];
  for (let i = 0; i < steps; i++) {
    const x = tf.randomNormal([4, 32, 32, 3], 0, 1, 'float32', i + 1) as tf.Tensor4D;
    const y = tf.tensor1d([i % 10, (i + 3) % 10, (i + 5) % 10, (i + 7) % 10], 'int32');
    losses.push(loop.step({ x, labels: y }, 0, i));
    tf.dispose([x, y]);
    counts.push(tf.memory().numTensors);
  }
  const out = { losses, counts, playersMoved: moved(players, before.players), players: players.length, mainMoved: moved(main, before.main), main: main.length };
  loop.dispose();
  s.dispose();
  return out;
}

describe.each(adversarialMethods.map((d) => [d.id, d] as const))('adversarial method %s', (_id, def) => {
  it('alternating steps move every player and the student side; finite, no leak, seeded', () => {
    const a = run(def, 4);
    for (const l of a.losses) for (const [k, v] of Object.entries(l)) expect(Number.isFinite(v), `${k} = ${v}`).toBe(true);
    expect(a.players).toBeGreaterThan(0);
    expect(a.playersMoved).toBe(a.players);
    expect(a.mainMoved).toBe(a.main);
    expect(a.counts[3]).toBe(a.counts[2]);
    expect(run(def, 4).losses).toEqual(a.losses);
  });
});

describe('afd (Chung et al. 2020) on real peers', () => {
  it('three steps: discriminators, feature extractors (adversarial only), then the logit loss on whole networks', () => {
    const s = setup(afd);
    expect(Object.keys(s.inst.procedure!.networks ?? {})).toEqual(['peer']);
    expect(s.inst.procedure!.networks!.peer!.trainInMain).toBe(true);
    const [discriminators, extractors] = s.inst.procedure!.players!;
    expect([discriminators!.name, extractors!.name]).toEqual(['discriminators', 'feature-extractors']);
    const peer = s.inst.procedure!.networks!.peer!.model;
    const heads = [...s.student.classifierVariables(), ...peer.classifierVariables()];
    const bodies = [s.student, peer].flatMap((m) => m.trainableVariables()).filter((v) => !heads.includes(v));
    expect(new Set(extractors!.variables())).toEqual(new Set(bodies)); // every feature-extractor weight, no classifier
    for (const v of discriminators!.variables()) v.assign(tf.zerosLike(v)); // silent discriminators: every score 0
    const x = tf.randomNormal([4, 32, 32, 3], 0, 1, 'float32', 9) as tf.Tensor4D;
    const io = {
      x, labels: tf.tensor1d([0, 1, 2, 3], 'int32'), ids: new Int32Array(4), epoch: 0, progress: 0, step: 0, stage: 'main',
      student: s.student.forward(x, { training: true }), teacher: undefined,
    };
    expect(values(discriminators!.losses(io))).toEqual({ real1: 1, fake1: 0, real2: 1, fake2: 0 });
    expect(values(extractors!.losses(io))).toEqual({ adversarial: 1, adversarial_peer: 1 });
    const l = values(s.inst.losses(io));
    expect(Object.keys(l)).toEqual(['ce', 'ce_peer', 'kl', 'kl_peer']);
    expect(l.kl).toBeGreaterThan(0);
    expect(Object.keys(metricsOf(s.inst, () => ({ top1: 0.25, top5: 1 })))).toEqual(['peer']);
    s.dispose();
  });
});

describe('abm (generator-augmented) on real networks', () => {
  it("generated images leave the student's batch-norm running statistics alone", () => {
    const s = setup(abm);
    const stats = () => s.student.namedVariables().filter((v) => /running_(mean|var)$/.test(v.name)).map((v) => Array.from(v.variable.dataSync()));
    const before = stats();
    tf.tidy(() => {
      const x = tf.randomNormal([4, 32, 32, 3], 0, 1, 'float32', 9) as tf.Tensor4D;
      const io = {
        x, labels: tf.tensor1d([0, 1, 2, 3], 'int32'), ids: new Int32Array(4), epoch: 0, progress: 0, step: 0, stage: 'main',
        student: s.student.forward(x, { training: false }), teacher: s.teacher!.forward(x, { training: false }),
      };
      const generator = values(s.inst.procedure!.players![0]!.losses(io));
      const main = values(s.inst.losses(io));
      expect(generator.disagreement).toBeLessThan(0);
      expect(main.generated).toBeGreaterThan(0);
    });
    expect(stats()).toEqual(before);
    s.dispose();
  });
});
