/**
 * Stable names for every variable a run trains or carries (student weights by their model names,
 * a method's modules by position, its buffers by key), so checkpoints written by one process load
 * in another.
 */
import type { tf } from '@kdbench/engine';
import type { Model } from '@kdbench/models';
import type { MethodInstance } from '../method.js';

export class VariableNames {
  private readonly names = new Map<tf.Variable, string>();
  readonly all: { name: string; variable: tf.Variable }[] = [];

  constructor(student: Model, method: MethodInstance) {
    for (const nv of student.namedVariables()) this.add(`student/${nv.name}`, nv.variable);
    for (const [key, slot] of Object.entries(method.networks ?? {})) {
      for (const nv of slot.model.namedVariables()) this.add(`network/${key}/${nv.name}`, nv.variable);
    }
    for (const [key, mod] of Object.entries(method.modules ?? {})) {
      mod.trainableVariables().forEach((v, i) => this.add(`module/${key}/${i}`, v));
    }
    for (const p of method.players ?? []) p.variables().forEach((v, i) => this.add(`player/${p.name}/${i}`, v));
    for (const [key, v] of Object.entries(method.buffers?.() ?? {})) this.add(`buffer/${key}`, v);
  }

  private add(name: string, v: tf.Variable): void {
    if (this.names.has(v)) return; // shared between parts (e.g. a wrapper student and its inner network): first name wins
    this.names.set(v, name);
    this.all.push({ name, variable: v });
  }

  nameOf = (v: tf.Variable): string => {
    const n = this.names.get(v);
    if (!n) throw new Error(`variable ${v.name} is trained but not declared by the student, the method's networks or its modules`);
    return n;
  };
}
