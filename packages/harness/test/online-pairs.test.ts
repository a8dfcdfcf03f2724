import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createModel } from '@kdbench/models';
import { runOne, type RunRequest } from '../src/run.js';
import { dataDir } from './paths.js';

const quiet = () => {};

/** A one-epoch smoke run of an online method on a mixed pair: student resnet8, second network `peer`. */
async function mixedPairRow(method: string, peer: string) {
  const request: RunRequest = {
    dataset: 'cifar10', method, student: 'resnet8', protocol: 'smoke', seed: 1, protocolOverrides: { epochs: 1 },
    hp: { peer }, dataDir, resultsDir: mkdtempSync(join(tmpdir(), `kdb-${method}-pair-`)), backend: 'wasm', log: quiet,
  };
  const { row } = await runOne(request);
  return { row, details: JSON.parse(row.details) };
}

/** Parameters of `id` as the smoke protocol builds it (widths x0.25). */
function smokeParams(id: string): number {
  const m = createModel(id, { numClasses: 10, seed: 0, widthFactor: 0.25 });
  const n = m.paramCount();
  m.dispose();
  return n;
}

describe('online pairs record both networks (the survey tables print both accuracies)', () => {
  for (const [method, peer] of [['dml', 'resnet14'], ['dcm', 'wrn_16_1']] as const) {
    it(`${method}: the row holds the student's and the ${peer} peer's accuracies after training, and names the peer`, async () => {
      const { row, details } = await mixedPairRow(method, peer);
      expect(row.teacher).toBe('');
      expect(JSON.parse(row.hyperparameters).peer).toBe(peer);
      expect(Object.keys(details.extra).sort()).toEqual(['peer0', 'peer1']);
      expect(details.extra.peer0).toBe(row.last_top1); // peer 0 is the run's student
      expect(details.extra.peer1).toBeGreaterThanOrEqual(0);
      expect(details.extra.peer1).toBeLessThanOrEqual(100);
      expect(details.networks).toEqual({ peer1: { id: peer, params: smokeParams(peer), flops: expect.any(Number) } });
      expect(details.networks.peer1.params).not.toBe(row.student_params);
      expect(details.networks.peer1.flops).toBeGreaterThan(0);
    });
  }

  it('a method without extra networks records none', async () => {
    const request: RunRequest = {
      dataset: 'cifar10', method: 'vanilla', student: 'resnet8', protocol: 'smoke', seed: 1, protocolOverrides: { epochs: 1 },
      dataDir, resultsDir: mkdtempSync(join(tmpdir(), 'kdb-vanilla-nets-')), backend: 'wasm', log: quiet,
    };
    const { row } = await runOne(request);
    expect(JSON.parse(row.details).networks).toEqual({});
  });
});
