/**
 * A copy of a CIFAR ResNet's last stage with its own classifier: the branches of ONE and PCL, fed the
 * shared trunk's second-to-last stage output.
 */
import { tf } from '@kdbench/engine';
import { BasicBlock, layers, type FeatureShape } from '@kdbench/models';

export interface StageCopy {
  readonly blocks: BasicBlock[];
  readonly fc: layers.Linear;
}

/** Blocks `<scope>.layer.<j>` (the first with the stage's stride) and the classifier `<scope>.fc`. */
export function stageCopy(scope: layers.Scope, input: FeatureShape, last: FeatureShape, blocksPerStage: number, numClasses: number): StageCopy {
  const stride = input.height / last.height;
  let size = { h: input.height, w: input.width };
  const blocks = Array.from({ length: blocksPerStage }, (_, j) => {
    const block = new BasicBlock(scope.child('layer').child(j), j === 0 ? input.channels : last.channels, last.channels, j === 0 ? stride : 1, size);
    size = block.outSize;
    return block;
  });
  return { blocks, fc: new layers.Linear(scope.child('fc'), last.channels, numClasses) };
}

/** The copy's pooled feature and logits on the trunk's output `h`. */
export function applyStageCopy(copy: StageCopy, h: tf.Tensor4D, training: boolean): { embedding: tf.Tensor2D; logits: tf.Tensor2D } {
  for (const block of copy.blocks) h = block.apply(h, training).out;
  const embedding = layers.globalAvgPool(h);
  return { embedding, logits: copy.fc.apply(embedding) };
}
