/**
 * Every registered method trains exactly as it did when its fingerprint was recorded: the
 * conformance run (two steps per stage, real CIFAR-10 images, small models, seed 7) on the wasm
 * backend's own kernels (KDBENCH_NATIVE=0: WebAssembly arithmetic is the same on every x86 machine,
 * OpenBLAS's is not) gives the same loss values, final accuracy and weights (sha256 per
 * trainable part) as `test/fixtures/method-fingerprints.json`. A refactor must keep them; a
 * deliberate change to a method's numerics regenerates its entry with
 *   KDBENCH_UPDATE_FINGERPRINTS=<method id>[,<id>...] npx vitest run --root packages/harness test/fingerprints.test.ts
 * and says why in the commit.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunSplits } from '@kdbench/data';
import { initEngine } from '@kdbench/engine';
import { conformanceRun, loadConformanceSplits } from '@kdbench/core/testing';
import { registry } from '../src/registry.js';
import { dataDir } from './paths.js';

const file = new URL('./fixtures/method-fingerprints.json', import.meta.url);
const stored: Record<string, unknown> = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
const update = new Set((process.env.KDBENCH_UPDATE_FINGERPRINTS ?? '').split(',').filter(Boolean));

let splits: RunSplits;
beforeAll(async () => {
  process.env.KDBENCH_NATIVE = '0';
  await initEngine({ backend: 'wasm' });
  splits = await loadConformanceSplits(dataDir);
});

describe.each(registry.list().map((d) => [d.id, d] as const))('method %s', (id, def) => {
  it('trains bit for bit as its recorded fingerprint', () => {
    const run = conformanceRun(def, splits, 7);
    const got = { losses: run.losses, last: run.result.last, best: run.result.best, weights: run.weights };
    if (update.has(id) || update.has('all')) {
      stored[id] = got;
      writeFileSync(file, `${JSON.stringify(Object.fromEntries(Object.entries(stored).sort()), null, 1)}\n`);
    }
    expect(got).toEqual(stored[id]);
  });
});
