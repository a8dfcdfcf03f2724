/**
 * Training throughput of zoo students through kdbench's own trainer (data pipeline, forward,
 * backward, SGD-momentum update; evaluation excluded), on real CIFAR-10 images.
 *
 *   npx tsx benchmarks/engine/throughput.ts [--models resnet8,resnet20] [--widths 1,0.5] [--images 1280] [--backend wasm]
 *
 * Prints a markdown table: model, width, backend, images/s (median of the epochs after a warm-up epoch).
 */
import os from 'node:os';
import { Rng, initEngine } from '@kdbench/engine';
import { loadCifar, makeRunSplits, resolveDataDir } from '@kdbench/data';
import { createModel } from '@kdbench/models';
import { getProtocol, methodContext, train, vanilla, withOverrides } from '@kdbench/core';
import { scriptArgs } from '@kdbench/harness';
import { median } from '@kdbench/report';

const { values } = scriptArgs(import.meta.url, {
  models: { type: 'string', default: 'resnet8,resnet20' },
  widths: { type: 'string', default: '1,0.5' },
  images: { type: 'string', default: '1280' },
  epochs: { type: 'string', default: '3' },
  backend: { type: 'string', default: 'auto' },
  'data-dir': { type: 'string' },
}, '[--models resnet8,resnet20] [--widths 1,0.5] [--images 1280] [--epochs 3] [--backend wasm] [--data-dir DIR]', { positionals: false });

const engine = await initEngine({ backend: values.backend as never });
const data = await loadCifar('cifar10', { dataDir: resolveDataDir(values['data-dir']) });
const images = Number(values.images);
const splits = makeRunSplits(data, { seed: 0, trainPerClass: Math.ceil(images / 10), evalPerClass: 1 });
const epochs = Number(values.epochs);

console.log(`backend ${engine.backend}: ${engine.reason}`);
console.log(`machine: ${os.cpus().length} x ${os.cpus()[0]?.model}, node ${process.version}`);
console.log('');
console.log('| model | width | params | MMACs/img | backend | images/s (median of epochs 2..n) |');
console.log('|---|---|---|---|---|---|');
for (const id of values.models.split(',')) {
  for (const width of values.widths.split(',').map(Number)) {
    const student = createModel(id, { numClasses: 10, seed: 0, widthFactor: width });
    const method = vanilla.create(methodContext({ hp: {}, numClasses: 10, student, train: splits.train, epochs, batchSize: 64, rng: new Rng(0) }));
    const rates: number[] = [];
    const protocol = withOverrides(getProtocol('quick'), { epochs, widthFactor: width, batchSize: 64 });
    let last = Date.now();
    train({
      dataset: 'cifar10', splits, protocol, lr: 0.05, seed: 0, student, method,
      onEvent: (e) => {
        if (e.type !== 'epoch') return;
        rates.push(splits.train.n / ((Date.now() - last) / 1000)); // evaluation of 10 images is negligible
        last = Date.now();
      },
    });
    const steady = rates.length > 1 ? median(rates.slice(1)) : rates[0]!;
    console.log(`| ${id} | ${width} | ${(student.paramCount() / 1e6).toFixed(3)}M | ${(student.flops() / 1e6).toFixed(1)} | ${engine.backend} | ${steady.toFixed(1)} |`);
    student.dispose();
  }
}
