/**
 * The conformance kit as vitest suites: `describeConformance([mymethod])` declares, per method, the
 * metadata check and the two-step real-data training check of conformance.ts (wasm engine, CIFAR-10
 * from $KDBENCH_DATA_DIR or `dataDir`). Import from `@kdbench/core/testing/vitest`.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunSplits } from '@kdbench/data';
import { initEngine } from '@kdbench/engine';
import type { MethodDefinition } from '../index.js';
import { loadConformanceSplits, metadataFindings, trainingFindings } from './conformance.js';

export function describeConformance(defs: readonly MethodDefinition<any>[], opts: { dataDir?: string } = {}): void {
  let splits: RunSplits;
  beforeAll(async () => {
    await initEngine({ backend: 'wasm' });
    splits = await loadConformanceSplits(opts.dataDir);
  });
  describe.each(defs.map((d) => [d.id, d] as const))('method %s', (_id, def) => {
    it('has complete metadata', () => {
      expect(metadataFindings(def)).toEqual([]);
    });
    it('trains two steps per stage on real data: finite losses, every part moves, no leaks, seeded', () => {
      expect(trainingFindings(def, { splits })).toEqual([]);
    });
  });
}
