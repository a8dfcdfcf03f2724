import { describe, expect, it } from 'vitest';
import { getProtocol, parseProtocolOverrides, protocolForDataset, trainingRecipe, withOverrides } from '../src/index.js';

describe('protocol settings (--set, suite set:)', () => {
  it('parses a training recipe: schedule, its unit, warm-up and dropLast', () => {
    expect(parseProtocolOverrides('quick', 'schedule=cosine,scheduleUnit=iteration')).toEqual({ scheduleUnit: 'iteration', schedule: { kind: 'cosine' } });
    expect(parseProtocolOverrides('quick', 'warmupEpochs=5,dropLast=true')).toEqual({ warmupEpochs: 5, dropLast: true });
    expect(parseProtocolOverrides('quick', 'warmupEpochs=0')).toEqual({ warmupEpochs: 0 });
    expect(parseProtocolOverrides('quick', 'milestones=0.5/0.75,lrDecay=0.2')).toEqual({ schedule: { kind: 'multistep', milestones: [0.5, 0.75], gamma: 0.2 } });
    expect(parseProtocolOverrides('quick', 'schedule=multistep')).toEqual({ schedule: getProtocol('quick').schedule });
    expect(parseProtocolOverrides('quick', 'epochs=2,widthFactor=0.5')).toEqual({ epochs: 2, widthFactor: 0.5 });
  });

  it('refuses bad recipe values with one line naming the setting', () => {
    expect(() => parseProtocolOverrides('quick', 'schedule=linear')).toThrow("--set: schedule must be one of multistep, cosine, constant, got 'linear'");
    expect(() => parseProtocolOverrides('quick', 'scheduleUnit=batch')).toThrow("--set: scheduleUnit must be one of epoch, iteration, got 'batch'");
    expect(() => parseProtocolOverrides('quick', 'dropLast=yes')).toThrow("--set: dropLast must be true or false, got 'yes'");
    expect(() => parseProtocolOverrides('quick', 'warmupEpochs=-1')).toThrow('--set: warmupEpochs must be a non-negative number');
    expect(() => parseProtocolOverrides('quick', 'schedule=cosine,milestones=0.5')).toThrow("milestones and lrDecay apply to schedule=multistep, not 'cosine'");
    expect(() => parseProtocolOverrides('quick', 'milestones=0.75/0.5')).toThrow('milestones must increase');
    expect(() => parseProtocolOverrides('quick', 'milestones=150/180')).toThrow("fractions of the run in (0, 1) separated by '/'");
  });

  it('states the recipe in the label and leaves the default protocol untouched', () => {
    const p = withOverrides(getProtocol('quick'), parseProtocolOverrides('quick', 'schedule=cosine,scheduleUnit=iteration,warmupEpochs=1'));
    expect(p.label).toMatch(/\[overrides: scheduleUnit=iteration, warmupEpochs=1, schedule=cosine\]$/);
    expect(withOverrides(getProtocol('quick'), { schedule: { kind: 'multistep', milestones: [0.5], gamma: 0.1 } }).label).toMatch(/schedule=multistep\(0\.5 x0\.1\)\]$/);
    // the default protocols carry none of the optional recipe keys: recorded run ids hash them as before
    for (const id of ['smoke', 'quick', 'paper']) {
      const q = getProtocol(id);
      expect(['scheduleUnit', 'warmupEpochs', 'dropLast'].filter((k) => k in q)).toEqual([]);
      expect(trainingRecipe(protocolForDataset(q, 'cifar100'))).toBeUndefined();
    }
    expect(trainingRecipe(p)).toBe('schedule=cosine, scheduleUnit=iteration, warmupEpochs=1');
  });
});
