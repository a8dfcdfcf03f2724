/**
 * CRD's objective as one unit (Tian, Krishnan and Isola, "Contrastive Representation Distillation",
 * ICLR 2020): linear heads from the student's and the teacher's pooled embeddings to unit vectors,
 * and the two-sided NCE loss over the memory banks (ContrastiveCriterion), with the negatives drawn
 * from the run's Rng forked per epoch. Used by CRD and CRD+KD (negatives from other classes) and by
 * the cross-modal variant (label-free: every record its own class). The owner exposes `modules`,
 * `buffers()`, `onEpochStart`, `afterStep` and `dispose` through its method instance.
 */
import type { Rng, tf } from '@kdbench/engine';
import type { FeatureShape, ForwardResult } from '@kdbench/models';
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
  readonly modules: Record<string, Embed>;
  private readonly rng: Rng;
  private epochRng: Rng;

  constructor(o: {
    studentShapes: readonly FeatureShape[]; teacherShapes: readonly FeatureShape[]; trainIds: Int32Array;
    /** Class of each training record: negatives come from other classes (0..N-1 for label-free use). */
    negativeClasses: Int32Array; settings: CrdSettings; rng: Rng;
  }) {
    this.rng = o.rng;
    const { featDim, nceK, nceT, nceM } = o.settings;
    this.criterion = new ContrastiveCriterion({
      trainIds: o.trainIds, negativeClasses: o.negativeClasses, dim: featDim, nceK, nceT, nceM, rng: o.rng.fork('crd-memory'),
    });
    this.embedS = new Embed(embeddingDim(o.studentShapes), featDim, moduleSeed(o.rng, 'crd-embed-s'), true);
    this.embedT = new Embed(embeddingDim(o.teacherShapes), featDim, moduleSeed(o.rng, 'crd-embed-t'), true);
    this.modules = { embedS: this.embedS, embedT: this.embedT };
    this.epochRng = o.rng.fork(0);
  }

  /** Memory banks and Z: checkpointed, and restored in place before training resumes. */
  buffers(): Record<string, tf.Variable> {
    return this.criterion.buffers();
  }

  onEpochStart(epoch: number): void {
    this.epochRng = this.rng.fork(epoch);
  }

  /** The unweighted contrastive loss of a batch (record ids `ids`). */
  loss(student: ForwardResult, teacher: ForwardResult, ids: Int32Array): tf.Scalar {
    return this.criterion.loss(this.embedS.apply(student.embedding), this.embedT.apply(teacher.embedding), ids, this.epochRng);
  }

  afterStep(): void {
    this.criterion.afterStep();
  }

  dispose(): void {
    this.criterion.dispose();
    this.embedS.dispose();
    this.embedT.dispose();
  }
}
