import { describe, expect, it } from 'vitest';
import { ConfigError, MethodRegistry, UnknownMethodError, parseHyperList, resolveHyper } from '../src/registry.js';
import { defineMethod } from '../src/method.js';
import { vanilla } from '../src/methods/vanilla.js';
import { getProtocol, withOverrides } from '../src/protocols.js';
import { learningRate, CRD_MILESTONES } from '../src/optim/schedule.js';

const toy = defineMethod({
  id: 'toy', title: 'toy', paper: null, family: 'response', knowledge: 'response', scheme: 'offline', teacher: 'none',
  defaults: { T: 4, name: 'x', on: true }, hyperDocs: { T: 't', name: 'n', on: 'o' }, deviations: '',
  create: () => ({ losses: () => ({}) }),
});

describe('MethodRegistry', () => {
  it('lists registered methods and refuses duplicates', () => {
    const r = new MethodRegistry().register(vanilla).register(toy);
    expect(r.list().map((m) => m.id)).toEqual(['vanilla', 'toy']);
    expect(() => r.register(toy)).toThrow(/registered twice/);
  });

  it('names the known methods when asked for an unknown one', () => {
    const r = new MethodRegistry().register(vanilla).register(toy);
    expect(() => r.get('fitnet')).toThrow(UnknownMethodError);
    expect(() => r.get('fitnet')).toThrow(/unknown method 'fitnet'.*toy, vanilla/);
  });

  it('refuses undocumented hyperparameters and bad ids', () => {
    const bad = { ...toy, id: 'bad', hyperDocs: { T: 't' } } as never;
    expect(() => new MethodRegistry().register(bad)).toThrow(/no description/);
    expect(() => new MethodRegistry().register({ ...toy, id: 'Bad Id' })).toThrow(/lowercase/);
  });
});

describe('hyperparameters', () => {
  it('coerces overrides to the default types', () => {
    expect(resolveHyper(toy, parseHyperList('T=2.5, name=y,on=false'))).toEqual({ T: 2.5, name: 'y', on: false });
  });

  it('rejects unknown keys and ill-typed values with the method and key named', () => {
    expect(() => resolveHyper(toy, { alpha: '1' })).toThrow(ConfigError);
    expect(() => resolveHyper(toy, { alpha: '1' })).toThrow(/'toy' has no hyperparameter 'alpha' \(it has: T, name, on\)/);
    expect(() => resolveHyper(toy, { T: 'hot' })).toThrow(/'T' must be a number, got 'hot'/);
    expect(() => resolveHyper(toy, { on: 'yes' })).toThrow(/true or false/);
    expect(() => parseHyperList('T')).toThrow(/key=value/);
  });
});

describe('allowed values of string hyperparameters (hyperChoices)', () => {
  const mode = defineMethod({
    id: 'mode', title: 'mode', paper: null, family: 'response', knowledge: 'response', scheme: 'offline', teacher: 'none', deviations: '',
    defaults: { T: 4, mode: 'mean' }, hyperDocs: { T: 't', mode: 'm' }, hyperChoices: { mode: ['mean', 'min'] },
    create: () => ({ losses: () => ({}) }),
  });

  it('accepts an allowed value and refuses any other, naming them all', () => {
    expect(resolveHyper(mode, { mode: 'min' })).toEqual({ T: 4, mode: 'min' });
    expect(() => resolveHyper(mode, { mode: 'median' })).toThrow(ConfigError);
    expect(() => resolveHyper(mode, { mode: 'median' })).toThrow("method 'mode': hyperparameter 'mode' must be one of 'mean', 'min', got 'median'");
    expect(() => resolveHyper(mode, { mode: '' })).toThrow(/got ''$/);
  });

  it('refuses choices that name no string hyperparameter or leave out the default', () => {
    expect(() => new MethodRegistry().register({ ...mode, hyperChoices: { T: ['4'] } } as never)).toThrow(/hyperChoices\.T names no string hyperparameter/);
    expect(() => new MethodRegistry().register({ ...mode, hyperChoices: { mode: ['min'] } })).toThrow(/default mode='mean' is not one of its hyperChoices/);
    expect(new MethodRegistry().register(mode).get('mode').hyperChoices).toEqual({ mode: ['mean', 'min'] });
  });
});

describe('protocols and schedules', () => {
  it('knows smoke, quick and paper; rejects others', () => {
    expect(getProtocol('paper').epochs).toBe(240);
    expect(getProtocol('quick').label).toMatch(/quick/);
    expect(() => getProtocol('fast')).toThrow(/unknown protocol 'fast'.*smoke, quick, paper/);
  });

  it('labels overridden protocols', () => {
    const p = withOverrides(getProtocol('smoke'), { epochs: 3 });
    expect(p.epochs).toBe(3);
    expect(p.label).toMatch(/overrides: epochs=3/);
    expect(() => withOverrides(getProtocol('smoke'), { nope: 1 } as never)).toThrow(/no setting 'nope'/);
  });

  it('multistep at CRD milestones gives 0.05 -> 5e-3 -> 5e-4 -> 5e-5 over 240 epochs', () => {
    const s = { kind: 'multistep' as const, milestones: CRD_MILESTONES, gamma: 0.1 };
    expect(learningRate(0.05, s, 149, 240)).toBeCloseTo(0.05, 10);
    expect(learningRate(0.05, s, 150, 240)).toBeCloseTo(0.005, 10);
    expect(learningRate(0.05, s, 180, 240)).toBeCloseTo(0.0005, 10);
    expect(learningRate(0.05, s, 239, 240)).toBeCloseTo(0.00005, 10);
    expect(learningRate(0.1, { kind: 'cosine' }, 5, 10)).toBeCloseTo(0.05, 10);
  });
});
