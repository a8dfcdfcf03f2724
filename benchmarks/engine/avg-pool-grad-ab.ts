/**
 * A/B of the average-pooling gradient on wasm: the stock tfjs kernel against kdbench's (native
 * addon, else its JavaScript loop) on DenseNet-40-12's two transition poolings (2x2, stride 2;
 * batch 64; the inputs at widths x0.5 and x1), in alternating rounds so both see the same load.
 *
 *   npx tsx benchmarks/engine/avg-pool-grad-ab.ts [--rounds 5]
 *
 * Prints a markdown table: input shape, milliseconds per call of each kernel (median over rounds).
 */
import os from 'node:os';
import { initEngine, nativeStatus, registerWasmKernels, tf, unregisterWasmKernels } from '@kdbench/engine';
import { median } from '@kdbench/report';
import { scriptArgs } from '@kdbench/harness';

const { values } = scriptArgs(import.meta.url, { rounds: { type: 'string', default: '5' } }, '[--rounds 5]', { positionals: false });
await initEngine({ backend: 'wasm' });
const native = nativeStatus().loaded ? 'native addon' : 'JavaScript loop (no native addon)';
console.log(`${os.cpus().length} x ${os.cpus()[0]?.model}; kdbench's kernel: ${native}; ${values.rounds} rounds`);
console.log('');
console.log('| input (N, H, W, C) | stock, ms | kdbench, ms | speed-up |');
console.log('|---|---|---|---|');
// DenseNet-40-12's transitions: 16 + 12 * 12 = 160 and 160 + 12 * 12 = 304 channels at x1
for (const shape of [[64, 32, 32, 80], [64, 16, 16, 152], [64, 32, 32, 160], [64, 16, 16, 304]] as [number, number, number, number][]) {
  const x = tf.randomNormal(shape) as tf.Tensor4D;
  const dy = tf.randomNormal([shape[0], shape[1] / 2, shape[2] / 2, shape[3]]) as tf.Tensor4D;
  const time = () => {
    const t0 = performance.now();
    const dx = tf.engine().runKernel('AvgPoolGrad', { dy, input: x }, { filterSize: 2, strides: 2, pad: 'valid' }) as tf.Tensor;
    dx.dataSync();
    dx.dispose();
    return performance.now() - t0;
  };
  const ms: [number[], number[]] = [[], []];
  for (let r = 0; r < Number(values.rounds); r++) {
    unregisterWasmKernels();
    try {
      time();
      ms[0].push(time());
    } finally {
      registerWasmKernels();
    }
    time();
    ms[1].push(time());
  }
  const [a, b] = [median(ms[0]), median(ms[1])];
  console.log(`| ${shape.join(' x ')} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${(a / b).toFixed(1)}x |`);
  tf.dispose([x, dy]);
}
