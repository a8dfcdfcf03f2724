/** Copying one network's weights and batch-norm statistics into another of the same architecture. */
import { tf } from '@kdbench/engine';
import type { Model } from '@kdbench/models';

/** Assigns every named variable of `from` to the variable of the same name in `to` (shapes must match). */
export function copyWeights(from: Model, to: Model): void {
  const target = new Map(to.namedVariables().map((nv) => [nv.name, nv.variable]));
  const source = from.namedVariables();
  if (source.length !== target.size) throw new Error(`copyWeights: ${from.id} has ${source.length} variables, ${to.id} has ${target.size}`);
  tf.tidy(() => {
    for (const { name, variable } of source) {
      const dst = target.get(name);
      if (!dst || dst.shape.join() !== variable.shape.join()) throw new Error(`copyWeights: no variable '${name}' of shape [${variable.shape}] in ${to.id}`);
      dst.assign(variable);
    }
  });
}
