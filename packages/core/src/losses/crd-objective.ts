/**
 * CRD's objective as one unit (Tian, Krishnan and Isola, "Contrastive Representation Distillation",
 * ICLR 2020): linear heads from the student's and the teacher's pooled embeddings to unit vectors,
 * and the two-sided NCE loss over the memory banks (ContrastiveCriterion), with the negatives drawn
 * from the run's Rng forked per epoch. Used by CRD and CRD+KD (negatives from other classes) and by
 * the cross-modal variant (label-free: every record its own class). A method declares
 * `parts: objective.parts` (both heads, trained with the student, and the memory: banks, Z,
 * sampler, bank updates) and adds `objective.loss(...)` to its terms.
 */
import type { Rng } from '@kdbench/engine';
import type { FeatureShape, ForwardResult } from '@kdbench/models';
import type { tf } from '@kdbench/engine';
import { Embed, moduleSeed } from '../modules/connectors.js';
import { ContrastiveCriterion } from './contrastive.js';

export interface CrdSettings {
  /** Width of the heads and banks (128). */
  readonly featDim: number;
  readonly nceK: number;
  readonly nceT: number;
  readonly nceM: number;
}

/** Width of the pooled embedding from a model's feature shapes (the 'embedding' entry). */
export function embeddingDim(shapes: readonly { name: string; channels: number }[]): number {
  const e = shapes.find((s) => s.name === 'embedding');
  if (!e) throw new Error("feature shapes have no 'embedding' entry");
  return e.channels;
}

export class CrdObjective {
  readonly embedS: Embed;
  readonly embedT: Embed;
  readonly criterion: ContrastiveCriterion;
  /** The parts a method declares: both heads (checkpointed as modules embedS, embedT) and the memory. */
  readonly parts: { embedS: Embed; embedT: Embed; crdMemory: ContrastiveCriterion };

  constructor(o: {
    studentShapes: readonly FeatureShape[]; teacherShapes: readonly FeatureShape[]; trainIds: Int32Array;
    /** Class of each training record: negatives come from other classes (0..N-1 for label-free use). */
    negativeClasses: Int32Array; settings: CrdSettings; rng: Rng;
  }) {
    const { featDim, nceK, nceT, nceM } = o.settings;
    this.criterion = new ContrastiveCriterion({
      trainIds: o.trainIds, negativeClasses: o.negativeClasses, dim: featDim, nceK, nceT, nceM, rng: o.rng.fork('crd-memory'), sampler: o.rng,
    });
    this.embedS = new Embed(embeddingDim(o.studentShapes), featDim, moduleSeed(o.rng, 'crd-embed-s'), true);
    this.embedT = new Embed(embeddingDim(o.teacherShapes), featDim, moduleSeed(o.rng, 'crd-embed-t'), true);
    this.parts = { embedS: this.embedS, embedT: this.embedT, crdMemory: this.criterion };
  }

  /** The unweighted contrastive loss of a batch (record ids `ids`). */
  loss(student: ForwardResult, teacher: ForwardResult, ids: Int32Array): tf.Scalar {
    return this.criterion.loss(this.embedS.apply(student.embedding), this.embedT.apply(teacher.embedding), ids);
  }
}
