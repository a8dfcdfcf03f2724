/** Top-1 / top-5 accuracy of a model on an evaluation split (eval mode, no augmentation). */
import { tf } from '@kdbench/engine';
import { evalBatches, type DatasetId, type RawSplit } from '@kdbench/data';
import type { Model } from '@kdbench/models';
import { topKCorrect } from '../losses/kl.js';

export interface Accuracy {
  top1: number;
  top5: number;
}

export function evaluate(model: Model, split: RawSplit, dataset: DatasetId, batchSize = 200): Accuracy {
  let c1 = 0;
  let c5 = 0;
  for (const batch of evalBatches(split, dataset, batchSize)) {
    const logits = tf.tidy(() => model.forward(batch.x, { training: false }).logits);
    c1 += topKCorrect(logits, batch.y, 1);
    c5 += topKCorrect(logits, batch.y, 5);
    tf.dispose([logits, batch.x, batch.y]);
  }
  return { top1: (100 * c1) / split.n, top5: (100 * c5) / split.n };
}
