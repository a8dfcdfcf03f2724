/**
 * The data-free procedure on real (tiny) networks, without the trainer: no read of the training
 * split, both players move (generator and student; for DeepInversion the pixels and the student),
 * finite losses, no tensor leak across steps, the same numbers twice under a seed, the synthesis
 * counters, and a PNG grid from the instance.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tf } from '@kdbench/engine';
import { createModel } from '@kdbench/models';
import type { MethodDefinition } from '@kdbench/core';
import { dataFreeMethods, saveSynthesisGrid, synthesisOf } from '../src/index.js';
import { guardedContext, moved, snapshot } from './helpers.js';
import { artifactsOf, batchStepper, buffersOf, disposeInstance, metricsOf } from '@kdbench/core/testing';

const B = 4;

beforeAll(async () => {
  await initEngine({ backend: 'wasm' });
});

function run(def: MethodDefinition<any>, steps: number) {
  const student = createModel('resnet8', { numClasses: 10, seed: 0, widthFactor: 0.25 });
  const teacher = createModel('resnet8', { numClasses: 10, seed: 1, widthFactor: 0.25 });
  const inst = def.create(guardedContext(def, student, teacher, B));
  const own = [...(inst.procedure!.players ?? []).flatMap((p) => p.variables()), ...Object.entries(buffersOf(inst)).filter(([k]) => k === 'pixels').map(([, v]) => v)];
  const beforeOwn = snapshot(own);
  const beforeStudent = snapshot(student.trainableVariables());
  const loop = batchStepper(inst, student, teacher);
  const losses: Record<string, number>[] = [];
  const counts: number[] = [];
  for (let s = 0; s < steps; s++) {
    losses.push(loop.syntheticStep(B, 0, s));
    counts.push(tf.memory().numTensors);
  }
  const result = {
    losses, counts, extra: metricsOf(inst, () => ({ top1: 0, top5: 0 })),
    ownMoved: moved(own, beforeOwn), ownTotal: own.length,
    studentMoved: moved(student.trainableVariables(), beforeStudent), studentTotal: student.trainableVariables().length,
    inst, student, teacher, loop,
  };
  return result;
}

function disposeRun(r: ReturnType<typeof run>) {
  r.loop.dispose();
  disposeInstance(r.inst);
  r.student.dispose();
  r.teacher.dispose();
}

describe.each(dataFreeMethods.map((d) => [d.id, d] as const))('data-free method %s', (_id, def) => {
  it("declares data: 'none', trains both players without reading the training split, leaks nothing, repeats under a seed", () => {
    expect(def.data).toBe('none');
    const a = run(def, 4);
    try {
      for (const l of a.losses) for (const [k, v] of Object.entries(l)) expect(Number.isFinite(v), `${k} = ${v}`).toBe(true);
      expect(a.ownTotal).toBeGreaterThan(0);
      expect(a.ownMoved).toBe(a.ownTotal); // the generator's (or the pixels') every variable
      expect(a.studentMoved).toBe(a.studentTotal);
      expect(a.counts[3]).toBe(a.counts[2]);
      expect(a.extra.images_generated).toBeGreaterThan(0);
      expect(a.extra.synthesis_seconds).toBeGreaterThan(0);
      const dir = mkdtempSync(join(tmpdir(), 'kdbench-grid-'));
      expect(saveSynthesisGrid(synthesisOf(a.inst), join(dir, 'grid.png'), { count: 4 }).images).toBe(4);
      expect(artifactsOf(a.inst, dir)).toEqual(['synthesis.png']); // the run's artifact hook
      expect(readFileSync(join(dir, 'synthesis.png')).subarray(1, 4).toString('ascii')).toBe('PNG');
      const b = run(def, 4);
      expect(b.losses).toEqual(a.losses);
      disposeRun(b);
    } finally {
      disposeRun(a);
    }
  });
});
