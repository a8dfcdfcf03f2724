import { describe, expect, it } from 'vitest';
import { ConfigError } from '@kdbench/core';
import { sha256Hex } from '@kdbench/engine';
import { runId, validateRequest, type RunRequest } from '../src/run.js';
import { parseProtocolOverrides } from '@kdbench/core';
import { main } from '../src/cli/main.js';

const base: RunRequest = {
  dataset: 'cifar10', method: 'kd', student: 'resnet8', teacher: 'resnet20', protocol: 'smoke', seed: 1,
  dataDir: '/nonexistent', resultsDir: '/nonexistent',
};

describe('run request validation', () => {
  it('accepts a good request and resolves hyperparameters', () => {
    expect(validateRequest({ ...base, hp: { T: '2' } }).hp).toEqual({ T: 2, gamma: 0.1, alpha: 0.9 });
  });

  it.each([
    [{ method: 'fitnet2' }, /unknown method 'fitnet2'/],
    [{ student: 'resnet9' }, /unknown model 'resnet9' \(student\)\. Known models: .*resnet8/],
    [{ teacher: 'bigmodel' }, /unknown model 'bigmodel' \(teacher\)/],
    [{ student: 'resnet9@0.5' }, /unknown model 'resnet9@0.5' \(student\)/],
    [{ student: 'resnet20@0.50' }, /model 'resnet20@0.50' \(student\): the width multiplier after '@' must be a number in \(0, 4\] written in its shortest form/],
    [{ student: 'resnet20@5' }, /model 'resnet20@5' \(student\): the width multiplier/],
    [{ teacher: 'resnet20@' }, /model 'resnet20@' \(teacher\): the width multiplier/],
    [{ teacher: 'resnet20@1' }, /model 'resnet20@1' \(teacher\): a width multiplier of 1 is the model itself; write 'resnet20'/],
    [{ dataset: 'mnist' }, /unknown dataset 'mnist'.*cifar10, cifar100/],
    [{ protocol: 'fast' }, /unknown protocol 'fast'/],
    [{ seed: -1 }, /seed must be a non-negative integer/],
    [{ teacher: undefined }, /method 'kd' needs a teacher/],
    [{ hp: { T: 'warm' } }, /'T' must be a number/],
  ])('rejects %o', (patch, message) => {
    expect(() => validateRequest({ ...base, ...patch } as RunRequest)).toThrow(message);
  });

  it('run ids hash the student id as written: unchanged for plain ids, distinct for a width multiplier', () => {
    const plain = { ...base, student: 'resnet20' };
    const v = validateRequest(plain);
    // the key structure every recorded run id was made with
    const key = { method: 'kd', hp: v.hp, dataset: 'cifar10', student: 'resnet20', teacher: 'resnet20', teacherSeed: 0, protocol: v.protocol, seed: 1 };
    expect(runId(plain, v)).toBe(sha256Hex(JSON.stringify(key)).slice(0, 16));
    const half = { ...base, student: 'resnet20@0.5' };
    expect(runId(half, validateRequest(half))).toBe(sha256Hex(JSON.stringify({ ...key, student: 'resnet20@0.5' })).slice(0, 16));
    expect(runId(half, validateRequest(half))).not.toBe(runId(plain, v));
  });

  it('keeps the run ids of recorded runs (computed by the code before issue 21)', () => {
    const ids = [
      { ...base, teacher: 'resnet20' },
      { ...base, method: 'kdcl', teacher: undefined, protocol: 'quick', seed: 2, hp: { ensemble: 'naive' }, protocolOverrides: { epochs: 2, trainPerClass: 50 } },
      { ...base, dataset: 'cifar100', method: 'takd', teacher: 'resnet32', protocol: 'quick', hp: { assistant: 'resnet20' }, protocolOverrides: { epochs: 3 } },
    ].map((r) => runId(r, validateRequest(r)));
    expect(ids).toEqual(['65f332fda411a308', '237cea17996a1aac', 'b667e48c86fa58cd']);
  });

  it('refuses bad values of string hyperparameters from the method\'s allowed values', () => {
    expect(() => validateRequest({ ...base, method: 'kdcl', teacher: undefined, hp: { ensemble: 'mean' } })).toThrow(/'ensemble' must be one of 'minlogit', 'naive', got 'mean'/);
    expect(() => validateRequest({ ...base, method: 'modalitykd', hp: { modality: 'infrared' } })).toThrow(/'modality' must be one of 'gray', 'low8', 'low16', 'edge'/);
    expect(() => validateRequest({ ...base, method: 'nasevo', hp: { score: 'acc' } })).toThrow(/'score' must be one of 'kd', 'tgsa'/);
    expect(validateRequest({ ...base, method: 'dml', teacher: undefined, hp: { peer: 'wrn_16_2' } }).hp.peer).toBe('wrn_16_2');
  });

  it('warns, without refusing, for absurd epochs and for a teacher given to a teacher-free method', () => {
    expect(validateRequest({ ...base, protocolOverrides: { epochs: 100000000 } }).warnings).toEqual([
      'epochs=100000000 is more than 2400 (the paper protocol trains 240): check the value',
    ]);
    expect(validateRequest({ ...base, method: 'vanilla' }).warnings).toEqual(["method 'vanilla' trains without a teacher: --teacher resnet20 is ignored"]);
    expect(validateRequest({ ...base, method: 'vanilla', teacher: undefined }).warnings).toEqual([]);
  });

  it('checks protocol overrides', () => {
    expect(parseProtocolOverrides('smoke', 'epochs=2,widthFactor=0.5')).toEqual({ epochs: 2, widthFactor: 0.5 });
    expect(() => parseProtocolOverrides('smoke', 'epochz=2')).toThrow(/unknown protocol setting 'epochz'/);
    expect(() => parseProtocolOverrides('smoke', 'epochs=-2')).toThrow(/positive number/);
    expect(() => parseProtocolOverrides('smoke', 'epochs=2.5')).toThrow("--set: epochs must be a positive integer, got '2.5'");
    expect(() => validateRequest({ ...base, protocolOverrides: { epochs: 1.5 } })).toThrow(ConfigError);
  });
});

describe('CLI', () => {
  it('exits 2 with one clear line for bad input', async () => {
    const errors: string[] = [];
    const orig = console.error;
    console.error = (m: string) => errors.push(m);
    try {
      expect(await main(['run', '--dataset', 'cifar10', '--student', 'resnet8', '--method', 'nope'])).toBe(2);
      expect(await main(['run', '--dataset', 'cifar10', '--method', 'kd'])).toBe(2);
      expect(await main(['run', '--bogus'])).toBe(2);
      expect(await main(['frobnicate'])).toBe(2);
    } finally {
      console.error = orig;
    }
    expect(errors[0]).toMatch(/unknown method 'nope'/);
    expect(errors[1]).toMatch(/--student is required/);
    expect(errors[2]).toBe("kdbench run: unknown option '--bogus' (kdbench run --help lists the options)");
    expect(errors[3]).toMatch(/unknown command 'frobnicate'/);
  });

  it('exits 3 with one line, and keeps the checkpoint, when training diverges', async () => {
    const { mkdtempSync, readdirSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const { dataDir } = await import('./paths.js');
    const results = mkdtempSync(join(tmpdir(), 'kdb-diverge-'));
    const errors: string[] = [];
    const orig = console.error;
    console.error = (m: string) => errors.push(m);
    try {
      // vanilla with a learning rate of 1e30 overflows within the first steps
      expect(await main(['run', '--dataset', 'cifar10', '--student', 'resnet8', '--method', 'vanilla', '--protocol', 'smoke',
        '--set', 'lr=1e30,epochs=2', '--results', results, '--data-dir', dataDir, '--backend', 'wasm'])).toBe(3);
    } finally {
      console.error = orig;
    }
    expect(errors.at(-1)).toMatch(/training diverged: loss term 'ce' became (NaN|Infinity)/);
    expect(readdirSync(join(results, 'runs'))).toHaveLength(1);
  });

  it('lists methods with their metadata', async () => {
    const out: string[] = [];
    const orig = console.log;
    console.log = (m: string) => out.push(m);
    try {
      expect(await main(['methods'])).toBe(0);
      expect(await main(['methods', '--json'])).toBe(0);
    } finally {
      console.log = orig;
    }
    expect(out[0]).toMatch(/\nkd\s+response\s+response\s+offline\s+required\s+G\. Hinton 2015\s+T=4 gamma=0.1 alpha=0.9\n/);
    expect(out[0]).toMatch(/\nkdcl\s.*ensemble=minlogit T=2 lambda=1\s+peer: '' or a model id; ensemble: minlogit\|naive\n/);
    const json = JSON.parse(out[1]!);
    expect(json.map((m: { id: string }) => m.id)).toEqual(expect.arrayContaining(['vanilla', 'kd', 'dkd', 'fitnet', 'at', 'crd']));
    expect(json.find((m: { id: string }) => m.id === 'crd').paper.year).toBe(2020);
    expect(json.find((m: { id: string }) => m.id === 'kdcl').hyperChoices.ensemble).toEqual(['minlogit', 'naive']);
  });
});
