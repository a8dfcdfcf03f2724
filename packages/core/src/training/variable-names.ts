/**
 * Stable names for every variable a run trains or carries (student weights by their model names,
 * networks by theirs, a method's parts by position, players' variables by position, buffers by
 * key), so checkpoints written by one process load in another.
 */
import type { tf } from '@kdbench/engine';
import type { PartSet } from './parts.js';

export class VariableNames {
  private readonly names = new Map<tf.Variable, string>();
  readonly all: { name: string; variable: tf.Variable }[] = [];

  constructor(parts: PartSet) {
    for (const nv of parts.student.namedVariables()) this.add(`student/${nv.name}`, nv.variable);
    for (const [key, slot] of parts.networks) {
      for (const nv of slot.model.namedVariables()) this.add(`network/${key}/${nv.name}`, nv.variable);
    }
    for (const [key, part] of parts.parts) (part.trainableVariables?.() ?? []).forEach((v, i) => this.add(`module/${key}/${i}`, v));
    for (const p of parts.players) p.variables().forEach((v, i) => this.add(`player/${p.name}/${i}`, v));
    for (const [key, v] of Object.entries(parts.buffers())) this.add(`buffer/${key}`, v);
  }

  private add(name: string, v: tf.Variable): void {
    if (this.names.has(v)) return; // shared between parts (e.g. a wrapper student and its inner network): first name wins
    this.names.set(v, name);
    this.all.push({ name, variable: v });
  }

  nameOf = (v: tf.Variable): string => {
    const n = this.names.get(v);
    if (!n) throw new Error(`variable ${v.name} is trained but not declared by the student, the method's networks or its parts`);
    return n;
  };
}
