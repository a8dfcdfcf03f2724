/**
 * Conformance: every registered method, the moment it is registered, trains for two steps per
 * stage on real CIFAR-10 images with small models and must give finite losses, move the student
 * and every module it declares, keep the tensor count flat, repeat itself under a seed, and carry
 * complete metadata.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { getProtocol, methodContext, train, withOverrides, type MethodDefinition } from '@kdbench/core';
import { loadCifar, makeRunSplits, type RunSplits } from '@kdbench/data';
import { initEngine, Rng, tf } from '@kdbench/engine';
import { createModel } from '@kdbench/models';
import { registry } from '../src/registry.js';
import { dataDir } from './paths.js';

let splits: RunSplits;
// 40 images in batches of 20: two steps per epoch
const protocol = withOverrides(getProtocol('smoke'), { epochs: 2, batchSize: 20, widthFactor: 0.25 });

beforeAll(async () => {
  await initEngine({ backend: 'wasm' });
  splits = makeRunSplits(await loadCifar('cifar10', { dataDir }), { seed: 0, trainPerClass: 4, evalPerClass: 2 });
});

function runMethod(def: MethodDefinition, seed: number) {
  const student = createModel('resnet8', { numClasses: 10, seed, widthFactor: 0.25 });
  const teacher = def.teacher === 'required' ? createModel('resnet14', { numClasses: 10, seed: 100, widthFactor: 0.25 }) : undefined;
  const method = def.create(methodContext({
    hp: def.defaults, numClasses: 10, student, teacher, train: splits.train, epochs: protocol.epochs,
    batchSize: protocol.batchSize, rng: new Rng(seed),
  }));
  const parts: [string, tf.Variable[]][] = [
    ['student', student.trainableVariables()],
    ...Object.entries(method.modules ?? {}).map(([k, m]) => [`module ${k}`, m.trainableVariables()] as [string, tf.Variable[]]),
  ];
  const before = parts.map(([, vars]) => vars.map((v) => v.dataSync().slice()));
  const counts: number[] = [];
  const result = train({
    dataset: 'cifar10', splits, protocol, lr: 0.05, seed, student, teacher, method,
    onEvent: (e) => { if (e.type === 'epoch') counts.push(tf.memory().numTensors); },
  });
  const moved = parts.map(([name, vars], i) => ({
    name, changed: vars.filter((v, j) => v.dataSync().some((x, k) => x !== before[i]![j]![k])).length, total: vars.length,
  }));
  const losses = result.history.map((h) => h.losses);
  method.dispose?.();
  student.dispose();
  teacher?.dispose();
  return { result, moved, counts, losses };
}

describe.each(registry.list().map((d) => [d.id, d] as const))('method %s', (_id, def) => {
  it('has complete metadata', () => {
    expect(def.title.length).toBeGreaterThan(3);
    if (def.id !== 'vanilla') {
      expect(def.paper?.url).toMatch(/^https:\/\//);
      expect(def.paper?.year).toBeGreaterThan(2010);
    }
    expect(['offline', 'online', 'self']).toContain(def.scheme);
    expect(['response', 'feature', 'relation', 'none']).toContain(def.knowledge);
    for (const k of Object.keys(def.defaults)) expect((def.hyperDocs as Record<string, string>)[k]).toBeTruthy();
  });

  it('trains two steps per stage on real data: finite losses, every part moves, no leaks, seeded', () => {
    const a = runMethod(def, 7);
    for (const epoch of a.losses) for (const v of Object.values(epoch)) expect(Number.isFinite(v)).toBe(true);
    for (const m of a.moved) expect(m, `${m.name}: ${m.changed}/${m.total} variables changed`).toMatchObject({ changed: m.total });
    // flat across the last two epochs (stage set-up may allocate once)
    expect(a.counts.at(-1)).toBe(a.counts.at(-2));
    const b = runMethod(def, 7);
    expect(b.losses).toEqual(a.losses);
    expect(b.result.last).toEqual(a.result.last);
  });
});
