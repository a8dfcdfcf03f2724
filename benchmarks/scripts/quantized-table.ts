/**
 * Prints the quantized family's accuracy against bits and model size as a markdown table (the
 * report's quantized view, packages/report/src/views/quantized.ts, over one results file).
 *
 *   npx tsx benchmarks/scripts/quantized-table.ts results/results.arrow [--dataset cifar10] [--protocol quick]
 */
import { readResultFiles, registry, scriptArgs } from '@kdbench/harness';
import { quantizedView } from '@kdbench/report';

const { values, positionals } = scriptArgs(import.meta.url, { dataset: { type: 'string', default: 'cifar10' }, protocol: { type: 'string', default: 'quick' } }, '[RESULTS.arrow ...] [--dataset cifar10] [--protocol quick]');
const rows = readResultFiles(positionals.length ? positionals : ['results/results.arrow'])
  .filter((r) => r.dataset === values.dataset && r.protocol === values.protocol);
const meta = new Map(registry.list().map((d) => [d.id, d]));
const view = quantizedView(rows as never, { meta });
const order = ['FP32', 'W8A8', 'W4A4', 'W2A8'];
view.sort((a, b) => order.indexOf(a.bits) - order.indexOf(b.bits) || Number(a.kd) - Number(b.kd) || a.name.localeCompare(b.name));
console.log('| bits | method | KD | n | top-1 mean ± std | seeds | model bytes | compression vs FP32 |');
console.log('|---|---|---|---|---|---|---|---|');
for (const r of view) {
  console.log(`| ${r.bits}${r.ternary ? ' (ternary)' : ''} | ${r.name} | ${r.kd ? 'yes' : 'no'} | ${r.n} | ${r.mean.toFixed(2)}${r.std === null ? '' : ` ± ${r.std.toFixed(2)}`} | `
    + `${r.top1.map((t) => t.toFixed(1)).join(', ')} | ${r.modelBytes ?? '?'} | ${r.compression === null ? '?' : `${r.compression.toFixed(1)}x`} |`);
}
