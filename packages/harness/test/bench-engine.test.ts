/** `kdbench bench engine` builds its table and profile (correctness of the report, not speed). */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@kdbench/core';
import { engineBench } from '../src/bench/engine-bench.js';
import { benchCommand } from '../src/cli/bench-command.js';

describe('bench engine', () => {
  it('reports images/s per model and backend and a per-kernel profile of one step', async () => {
    const report = await engineBench({
      models: ['resnet8'], backends: ['cpu'], width: 0.25, batch: 4, steps: 1, warmup: 0, classes: 10,
      torchThreads: 0, python: '/nonexistent', torchScript: '/nonexistent', profile: true,
    }, () => {});
    const row = report.split('\n').find((l) => l.startsWith('| resnet8 |'))!;
    const [, model, params, backend, rate] = row.split('|').map((c) => c.trim());
    expect([model, backend]).toEqual(['resnet8', 'cpu']);
    expect(Number(params)).toBeGreaterThan(1000);
    expect(Number(rate)).toBeGreaterThan(0);
    expect(report).toMatch(/### resnet8 on cpu: one step/);
    expect(report).toMatch(/\| Conv2D(BackpropFilter|BackpropInput)? \| \d+ \|/);
  });

  it('rejects unknown benches, models and backends with a clear error', async () => {
    await expect(benchCommand(['disk'])).rejects.toThrow(ConfigError);
    await expect(benchCommand(['engine', '--models', 'resnet9'])).rejects.toThrow(/unknown model 'resnet9'/);
    await expect(benchCommand(['engine', '--backends', 'tpu'])).rejects.toThrow(/unknown backend 'tpu'/);
    await expect(benchCommand(['engine', '--steps', '0'])).rejects.toThrow(/--steps must be a number >= 1/);
  });
});
