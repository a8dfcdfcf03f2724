/** `kdbench bench engine` and `bench train` build their reports (correctness of the report, not speed). */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@kdbench/core';
import { engineBench } from '../src/bench/engine-bench.js';
import { runEpochs } from '../src/bench/train-bench.js';
import { benchCommand } from '../src/cli/bench-command.js';
import { dataDir } from './paths.js';

describe('bench engine', () => {
  it('reports images/s per model and backend, the kernels that ran and a per-kernel profile of one step', async () => {
    const report = await engineBench({
      models: ['resnet8'], backends: ['cpu'], width: 0.25, batch: 4, steps: 1, warmup: 0, classes: 10, repeat: 2,
      torchThreads: 0, python: '/nonexistent', torchScript: '/nonexistent', profile: true,
    }, () => {});
    const row = report.split('\n').find((l) => l.startsWith('| resnet8 |'))!;
    const [, model, params, backend, rate] = row.split('|').map((c) => c.trim());
    expect([model, backend]).toEqual(['resnet8', 'cpu']);
    expect(Number(params)).toBeGreaterThan(1000);
    expect(Number(rate)).toBeGreaterThan(0);
    expect(report).toMatch(/2 rounds of kdbench then PyTorch, medians/);
    expect(report).toMatch(/- cpu: the cpu backend's own kernels\./);
    expect(report).not.toMatch(/undefined/);
    expect(report).toMatch(/### resnet8 on cpu: one step/);
    expect(report).toMatch(/\| Conv2D(BackpropFilter|BackpropInput)? \| \d+ \|/);
  });

  it('rejects unknown benches, models, backends and kernel sets with a clear error', async () => {
    await expect(benchCommand(['disk'])).rejects.toThrow(ConfigError);
    await expect(benchCommand(['engine', '--models', 'resnet9'])).rejects.toThrow(/unknown model 'resnet9'/);
    await expect(benchCommand(['engine', '--backends', 'tpu'])).rejects.toThrow(/unknown backend 'tpu'/);
    await expect(benchCommand(['engine', '--kernels', 'gpu'])).rejects.toThrow(/unknown kernel set 'gpu'/);
    await expect(benchCommand(['engine', '--steps', '0'])).rejects.toThrow(/--steps must be a number >= 1/);
    await expect(benchCommand(['train', '--pairs', 'resnet8'])).rejects.toThrow(/'resnet8' is not student:teacher/);
    await expect(benchCommand(['train', '--methods', 'crd'])).rejects.toThrow(/unknown method 'crd' for bench train/);
  });
});

describe('bench train', () => {
  it('times a KD epoch through the trainer and splits it into data, step, teacher and evaluation', async () => {
    const t = await runEpochs({ student: 'resnet8', teacher: 'resnet14', method: 'kd' }, {
      dataset: 'cifar10', dataDir, trainPerClass: 4, evalPerClass: 2, width: 0.25, batch: 16, epochs: 2, backend: 'cpu',
    });
    expect([t.side, t.student, t.teacher, t.method, t.trainImages, t.evalImages, t.kernels]).toEqual(['kdbench', 'resnet8', 'resnet14', 'kd', 40, 20, 'cpu']);
    const { total, data, step, teacher, eval: evaluation } = t.seconds;
    for (const part of [data, step, teacher, evaluation]) expect(part).toBeGreaterThan(0);
    expect(data + step + teacher + evaluation).toBeCloseTo(total, 6);
    expect(t.imagesPerSecond).toBeCloseTo(80 / total, 6);
    expect(t.rssAfterEpochMb).toHaveLength(2);
    expect(t.peakRssMb).toBeGreaterThanOrEqual(Math.max(...t.rssAfterEpochMb) - 1);
  }, 120_000);
});
