/**
 * Top-1 / top-5 accuracy of a model on an evaluation split (eval mode, no augmentation), optionally
 * on some classes only or through another classifier; and embeddings of training rows.
 */
import { tf } from '@kdbench/engine';
import { evalBatches, subsetSplit, type DatasetId, type RawSplit } from '@kdbench/data';
import type { Model } from '@kdbench/models';
import type { Accuracy, EvaluateOptions, StageTools } from '../method.js';
import { topKCorrect } from '../losses/kl.js';

export function evaluate(model: Model, split: RawSplit, dataset: DatasetId, opts: EvaluateOptions = {}): Accuracy {
  const keep = opts.classes ? new Set(opts.classes) : null;
  const rows: number[] = [];
  if (keep) for (let i = 0; i < split.n; i++) if (keep.has(split.labels[i]!)) rows.push(i);
  const part = keep ? subsetSplit(split, rows) : split;
  if (part.n === 0) throw new Error(`evaluate: no evaluation records of classes [${opts.classes?.join(', ')}]`);
  let c1 = 0;
  let c5 = 0;
  for (const batch of evalBatches(part, dataset, 200)) {
    const logits = tf.tidy(() => (opts.classify ? opts.classify(batch.x) : model.forward(batch.x, { training: false }).logits));
    c1 += topKCorrect(logits, batch.y, 1);
    c5 += topKCorrect(logits, batch.y, Math.min(5, logits.shape[1]));
    tf.dispose([logits, batch.x, batch.y]);
  }
  return { top1: (100 * c1) / part.n, top5: (100 * c5) / part.n };
}

/** Embeddings ([n, D], eval mode, no augmentation) of rows of a split. */
export function embedRows(model: Model, split: RawSplit, dataset: DatasetId, rows: Int32Array): Float32Array {
  const part = subsetSplit(split, rows);
  const chunks: Float32Array[] = [];
  for (const batch of evalBatches(part, dataset, 200)) {
    const e = tf.tidy(() => model.forward(batch.x, { training: false }).embedding);
    chunks.push(e.dataSync() as Float32Array);
    tf.dispose([e, batch.x, batch.y]);
  }
  const out = new Float32Array(chunks.reduce((n, c) => n + c.length, 0));
  chunks.reduce((o, c) => (out.set(c, o), o + c.length), 0);
  return out;
}

/** The tools a stage's onEnd receives: evaluation on the run's evaluation split, embeddings of training rows. */
export function stageTools(a: { train: RawSplit; evaluation: RawSplit; dataset: DatasetId }): StageTools {
  return {
    evaluate: (model, opts) => evaluate(model, a.evaluation, a.dataset, opts),
    embed: (model, rows) => embedRows(model, a.train, a.dataset, rows),
  };
}
