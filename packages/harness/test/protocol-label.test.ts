import { describe, expect, it } from 'vitest';
import { getProtocol, protocolForDataset, withOverrides, type Protocol } from '@kdbench/core';
import { effectiveLabel } from '../src/protocol-label.js';
import { navLabel } from '@kdbench/report';

const label = (id: string, overrides: Partial<Protocol>, dataset: 'cifar10' | 'cifar100' = 'cifar10') =>
  protocolForDataset(withOverrides(getProtocol(id), overrides), dataset).label;

describe('the label of a result states the effective values', () => {
  it('writes overridden epochs, data and widths into the label, and keeps the overrides list', () => {
    expect(label('smoke', { epochs: 2 })).toBe('smoke (CI): 10 train + 10 eval images/class, widths x0.25, 1 epoch [overrides: epochs=2]');
    expect(effectiveLabel(label('smoke', { epochs: 2 })))
      .toBe('smoke (CI): 10 train + 10 eval images/class, widths x0.25, 2 epochs (teachers 1) [overrides: epochs=2]');
    expect(effectiveLabel(label('quick', { epochs: 3, teacherEpochs: 5, trainPerClass: 50, widthFactor: 0.25 })))
      .toBe('quick (CPU): 50 train + 100 eval images/class, widths x0.25, 3 epochs (teachers 5), lr x0.1 at 62.5/75/87.5% '
        + '[overrides: epochs=3, teacherEpochs=5, trainPerClass=50, widthFactor=0.25]');
    expect(effectiveLabel(label('quick', { trainPerClass: 50 }, 'cifar100')))
      .toBe('quick (CPU): 50 train images/class, 20/class holdout, widths x0.5, 12 epochs (teachers 24), lr x0.1 at 62.5/75/87.5% '
        + '[overrides: trainPerClass=50]');
    expect(effectiveLabel(label('paper', { epochs: 2, lr: 0.1, batchSize: 32 })))
      .toBe('paper (CRD protocol): full data, full widths, 2 epochs (teachers 240), lr 0.1 x0.1 at 62.5/75/87.5%, batch 32 '
        + '[overrides: epochs=2, lr=0.1, batchSize=32]');
  });

  it('leaves labels without overrides alone and changes nothing when applied twice', () => {
    for (const id of ['smoke', 'quick', 'paper']) expect(effectiveLabel(getProtocol(id).label)).toBe(getProtocol(id).label);
    const once = effectiveLabel(label('smoke', { epochs: 2, momentum: 0.5 }));
    expect(effectiveLabel(once)).toBe(once);
    expect(once).toMatch(/2 epochs \(teachers 1\) \[overrides: epochs=2, momentum=0.5\]$/);
  });

  it('the site navigation tells leaderboards apart by their overrides', () => {
    expect(navLabel('cifar10', 'smoke', getProtocol('smoke').label)).toBe('cifar10 · smoke');
    expect(navLabel('cifar10', 'smoke', effectiveLabel(label('smoke', { epochs: 2 })))).toBe('cifar10 · smoke (epochs=2)');
  });
});
