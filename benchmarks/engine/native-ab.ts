/**
 * A/B of the native addon (packages/engine/native: OpenBLAS SGEMM convolutions, fused batch norm) against the
 * WebAssembly kernels, in alternating rounds so both see the same machine load, on the
 * wasm backend. Also prints the convolution share of one step under each (tf.profile).
 *
 *   npx tsx benchmarks/engine/native-ab.ts [--models resnet8,resnet20,vgg8] [--rounds 3] [--steps 8] [--threads 2]
 *
 * --threads sets OpenBLAS's threads (the WebAssembly kernels are single-threaded either way).
 */
import os from 'node:os';
import { initEngine, nativeStatus, setNativeEnabled } from '@kdbench/engine';
import { median } from '@kdbench/report';
import { createModel } from '@kdbench/models';
import { UsageError, profileStep, scriptArgs, timeSteps } from '@kdbench/harness';

const { values } = scriptArgs(import.meta.url, {
  models: { type: 'string', default: 'resnet8,resnet20,vgg8' }, rounds: { type: 'string', default: '3' },
  steps: { type: 'string', default: '8' }, width: { type: 'string', default: '1' }, threads: { type: 'string' },
}, '[--models resnet8,resnet20,vgg8] [--rounds 3] [--steps 8] [--width W] [--threads 2]', { positionals: false });
const native = nativeStatus();
if (!native.loaded) throw new UsageError(`the native kernels are not loaded: ${native.detail}`);
if (values.threads) native.addon.setThreads(Number(values.threads));
const engine = await initEngine({ backend: 'wasm' });
const CONV = /^Conv2D/;

/** Share of one training step's kernel time spent in the convolution kernels (the harness's profile). */
async function convShare(model: ReturnType<typeof createModel>): Promise<number> {
  const kernels = await profileStep(model, { batch: 64, classes: 100 });
  const total = kernels.reduce((n, k) => n + k.ms, 0);
  const conv = kernels.filter((k) => CONV.test(k.kernel)).reduce((n, k) => n + k.ms, 0);
  return total > 0 ? conv / total : 0;
}

console.log(`${engine.reason} ${native.detail}; ${os.cpus().length} x ${os.cpus()[0]?.model}; batch 64, width x${values.width}, ${values.steps} steps per round, ${values.rounds} rounds`);
console.log('');
console.log('| model | WebAssembly kernels, img/s | native kernels, img/s | speed-up | conv share of kernel time (wasm / native) |');
console.log('|---|---|---|---|---|');
for (const id of values.models.split(',')) {
  const model = createModel(id, { numClasses: 100, seed: 0, widthFactor: Number(values.width) });
  const rates: Record<'wasm' | 'native', number[]> = { wasm: [], native: [] };
  const share: Record<'wasm' | 'native', number> = { wasm: 0, native: 0 };
  for (let r = 0; r < Number(values.rounds); r++) {
    for (const variant of ['wasm', 'native'] as const) {
      setNativeEnabled(variant === 'native');
      rates[variant].push(timeSteps(model, { batch: 64, steps: Number(values.steps), warmup: 1, classes: 100 }).imagesPerSecond);
      if (r === 0) share[variant] = await convShare(model);
    }
  }
  const a = median(rates.wasm);
  const b = median(rates.native);
  const pct = (v: number) => `${(100 * v).toFixed(0)}%`;
  console.log(`| ${id} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${(b / a).toFixed(2)}x | ${pct(share.wasm)} / ${pct(share.native)} |`);
  model.dispose();
}
setNativeEnabled(true);
