/** The registry of methods: the only way the harness and the report learn about methods. */
import type { Hyper, HyperValue, MethodDefinition } from './method.js';
import { FAMILIES } from './method.js';

export class UnknownMethodError extends Error {}
export class ConfigError extends Error {}

export class MethodRegistry {
  private readonly byId = new Map<string, MethodDefinition<Hyper>>();

  register<H extends Hyper>(def: MethodDefinition<H>): this {
    if (!/^[a-z][a-z0-9_+-]*$/.test(def.id)) throw new Error(`method id '${def.id}' must be short lowercase (a-z, 0-9, _ + -)`);
    if (this.byId.has(def.id)) throw new Error(`method '${def.id}' is registered twice`);
    if (!FAMILIES.includes(def.family)) throw new Error(`method '${def.id}': unknown family '${def.family}'`);
    for (const k of Object.keys(def.defaults)) {
      if (!(k in def.hyperDocs)) throw new Error(`method '${def.id}': hyperparameter '${k}' has no description in hyperDocs`);
    }
    for (const [k, choices] of Object.entries(def.hyperChoices ?? {}) as [string, readonly string[]][]) {
      if (typeof def.defaults[k] !== 'string') throw new Error(`method '${def.id}': hyperChoices.${k} names no string hyperparameter`);
      if (!choices.includes(def.defaults[k] as string)) throw new Error(`method '${def.id}': the default ${k}='${String(def.defaults[k])}' is not one of its hyperChoices`);
    }
    this.byId.set(def.id, def as unknown as MethodDefinition<Hyper>);
    return this;
  }

  get(id: string): MethodDefinition<Hyper> {
    const def = this.byId.get(id);
    if (!def) {
      throw new UnknownMethodError(`unknown method '${id}'. Known methods: ${[...this.byId.keys()].sort().join(', ')}`);
    }
    return def;
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  list(): MethodDefinition<Hyper>[] {
    return [...this.byId.values()];
  }
}

/**
 * Applies `key=value` overrides to a method's defaults, checking each key exists, each value has
 * the default's type and, for string hyperparameters with `hyperChoices`, is one of them. Throws
 * ConfigError naming the method, key and value otherwise.
 */
export function resolveHyper(def: MethodDefinition<Hyper>, overrides: Record<string, string | HyperValue>): Hyper {
  const hp: Hyper = { ...def.defaults };
  for (const [key, raw] of Object.entries(overrides)) {
    if (!(key in def.defaults)) {
      const known = Object.keys(def.defaults);
      throw new ConfigError(`method '${def.id}' has no hyperparameter '${key}'${known.length ? ` (it has: ${known.join(', ')})` : ''}`);
    }
    hp[key] = coerce(def.id, key, def.defaults[key]!, raw);
    const choices = def.hyperChoices?.[key];
    if (choices && !choices.includes(hp[key] as string)) {
      const shown = choices.map((c) => `'${c}'`);
      throw new ConfigError(`method '${def.id}': hyperparameter '${key}' must be ${shown.length > 1 ? `one of ${shown.join(', ')}` : shown[0]}, got '${String(raw)}'`);
    }
  }
  return hp;
}

function coerce(method: string, key: string, like: HyperValue, raw: string | HyperValue): HyperValue {
  if (typeof like === 'number') {
    const v = typeof raw === 'number' ? raw : Number(raw);
    if (typeof raw === 'boolean' || !Number.isFinite(v) || raw === '') {
      throw new ConfigError(`method '${method}': hyperparameter '${key}' must be a number, got '${String(raw)}'`);
    }
    return v;
  }
  if (typeof like === 'boolean') {
    if (raw === true || raw === 'true') return true;
    if (raw === false || raw === 'false') return false;
    throw new ConfigError(`method '${method}': hyperparameter '${key}' must be true or false, got '${String(raw)}'`);
  }
  return String(raw);
}

/** Parses `a=1,b=x` (the CLI's --hp) into a record. */
export function parseHyperList(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!text) return out;
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new ConfigError(`--hp expects key=value pairs separated by commas, got '${part}'`);
    out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}
