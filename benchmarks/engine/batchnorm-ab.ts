/**
 * A/B of the batch-norm training gradient: closed form (tf.customGrad, the default) against
 * differentiating the forward ops, in alternating rounds so both see the same machine load.
 *
 *   npx tsx benchmarks/engine/batchnorm-ab.ts [--models resnet8,resnet20] [--rounds 3] [--steps 8] [--backend wasm]
 *
 * Prints a markdown table: model, images/s of each variant (median over rounds), speed-up, and the
 * kernel count of one step of each.
 */
import os from 'node:os';
import { initEngine, tf } from '@kdbench/engine';
import { median } from '@kdbench/report';
import { createModel, layers } from '@kdbench/models';
import { scriptArgs, timeSteps } from '@kdbench/harness';

const { values } = scriptArgs(import.meta.url, {
  models: { type: 'string', default: 'resnet8,resnet20' }, rounds: { type: 'string', default: '3' },
  steps: { type: 'string', default: '8' }, backend: { type: 'string', default: 'wasm' }, width: { type: 'string', default: '1' },
}, '[--models resnet8,resnet20] [--rounds 3] [--steps 8] [--width W] [--backend wasm]', { positionals: false });
const engine = await initEngine({ backend: values.backend as never });
console.log(`backend ${engine.backend}; ${os.cpus().length} x ${os.cpus()[0]?.model}; batch 64, width x${values.width}, ${values.steps} steps per round, ${values.rounds} rounds`);
console.log('');
console.log('| model | differentiated ops, img/s | closed form, img/s | speed-up | kernels per step (ops / closed) |');
console.log('|---|---|---|---|---|');
for (const id of values.models.split(',')) {
  const model = createModel(id, { numClasses: 100, seed: 0, widthFactor: Number(values.width) });
  const rates: Record<'ops' | 'closed', number[]> = { ops: [], closed: [] };
  const kernels: Record<'ops' | 'closed', number> = { ops: 0, closed: 0 };
  for (let r = 0; r < Number(values.rounds); r++) {
    for (const variant of ['ops', 'closed'] as const) {
      layers.BatchNorm.closedFormGradient = variant === 'closed';
      rates[variant].push(timeSteps(model, { batch: 64, steps: Number(values.steps), warmup: 1, classes: 100 }).imagesPerSecond);
      if (r === 0) {
        const x = tf.randomNormal([64, 32, 32, 3]) as tf.Tensor4D;
        const y = tf.oneHot(tf.zeros([64], 'int32') as tf.Tensor1D, 100);
        const info = await tf.profile(() => tf.tidy(() => {
          const { grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, model.forward(x, { training: true }).logits) as tf.Scalar, model.trainableVariables());
          return Object.values(grads)[0]!.dataSync();
        }));
        kernels[variant] = info.kernels.length;
        tf.dispose([x, y]);
      }
    }
  }
  const [a, b] = [median(rates.ops), median(rates.closed)];
  console.log(`| ${id} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${(b / a).toFixed(2)}x | ${kernels.ops} / ${kernels.closed} |`);
  model.dispose();
}
layers.BatchNorm.closedFormGradient = true;
