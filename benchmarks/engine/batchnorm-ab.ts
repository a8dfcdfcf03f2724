/**
 * A/B of one batch-norm switch, in alternating rounds so both variants see the same machine load:
 * - `--switch gradient` (default): the closed-form training gradient (tf.customGrad, the default)
 *   against differentiating the forward ops (`BatchNorm.closedFormGradient`);
 * - `--switch tails`: the ReLU and residual sum folded into the native kernels (the default)
 *   against adding them with ops after the kernel (`BatchNorm.fuseTails`; wasm with the native
 *   addon; both give the same bits, packages/models/test/batchnorm-gradient.test.ts).
 *
 *   npx tsx benchmarks/engine/batchnorm-ab.ts [--switch gradient|tails] [--models resnet8,resnet20] [--rounds 3] [--steps 8] [--width W] [--backend wasm]
 *
 * Prints a markdown table: model, images/s of each variant (median over rounds), speed-up, and the
 * kernel count of one step of each.
 */
import os from 'node:os';
import { initEngine, tf } from '@kdbench/engine';
import { median } from '@kdbench/report';
import { createModel, layers } from '@kdbench/models';
import { scriptArgs, timeSteps, UsageError } from '@kdbench/harness';

const SWITCHES = {
  gradient: { labels: ['differentiated ops', 'closed form'], set: (on: boolean) => { layers.BatchNorm.closedFormGradient = on; } },
  tails: { labels: ['ReLU and residual as ops', 'fused into the kernel'], set: (on: boolean) => { layers.BatchNorm.fuseTails = on; } },
} as const;

const { values } = scriptArgs(import.meta.url, {
  switch: { type: 'string', default: 'gradient' }, models: { type: 'string', default: 'resnet8,resnet20' }, rounds: { type: 'string', default: '3' },
  steps: { type: 'string', default: '8' }, backend: { type: 'string', default: 'wasm' }, width: { type: 'string', default: '1' },
}, '[--switch gradient|tails] [--models resnet8,resnet20] [--rounds 3] [--steps 8] [--width W] [--backend wasm]', { positionals: false });
const which = SWITCHES[values.switch as keyof typeof SWITCHES];
if (!which) throw new UsageError(`--switch must be gradient or tails, got '${values.switch}'`);
const engine = await initEngine({ backend: values.backend as never });
console.log(`backend ${engine.backend}; ${os.cpus().length} x ${os.cpus()[0]?.model}; batch 64, width x${values.width}, ${values.steps} steps per round, ${values.rounds} rounds`);
console.log('');
console.log(`| model | ${which.labels[0]}, img/s | ${which.labels[1]}, img/s | speed-up | kernels per step (off / on) |`);
console.log('|---|---|---|---|---|');
for (const id of values.models.split(',')) {
  const model = createModel(id, { numClasses: 100, seed: 0, widthFactor: Number(values.width) });
  const rates: [number[], number[]] = [[], []];
  const kernels = [0, 0];
  for (let r = 0; r < Number(values.rounds); r++) {
    for (const variant of [0, 1] as const) {
      which.set(variant === 1);
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
  const [a, b] = [median(rates[0]), median(rates[1])];
  console.log(`| ${id} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${(b / a).toFixed(2)}x | ${kernels[0]} / ${kernels[1]} |`);
  model.dispose();
}
which.set(true);
