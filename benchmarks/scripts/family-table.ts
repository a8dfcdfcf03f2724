/**
 * Prints one of the report's family views over a results file as markdown: the cross-modal
 * modality x method table, or the data-free table (accuracy, synthesis time, images generated).
 *
 *   npx tsx benchmarks/scripts/family-table.ts results/results.arrow --view cross-modal [--dataset cifar10] [--protocol quick]
 *   npx tsx benchmarks/scripts/family-table.ts results/results.arrow --view data-free
 */
import { parseArgs } from 'node:util';
import { readResults, registry } from '@kdbench/harness';
import { crossModalView, dataFreeView, type ReportRow } from '@kdbench/report';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { view: { type: 'string', default: 'cross-modal' }, dataset: { type: 'string', default: 'cifar10' }, protocol: { type: 'string', default: 'quick' } },
});
const rows = readResults(positionals[0] ?? 'results/results.arrow')
  .filter((r) => r.dataset === values.dataset && r.protocol === values.protocol) as unknown as ReportRow[];
const meta = new Map(registry.list().map((d) => [d.id, d])) as never;
const cell = (s: { n: number; mean: number | null; std: number | null }, digits = 2) =>
  s.mean === null ? '-' : `${s.mean.toFixed(digits)}${s.std === null ? '' : ` ± ${s.std.toFixed(digits)}`} (n=${s.n})`;

if (values.view === 'cross-modal') {
  for (const t of crossModalView(rows, 'last_top1', meta)) {
    console.log(`student ${t.student}; RGB references: vanilla ${cell(t.rgb.vanilla)}, kd ${cell(t.rgb.kd)}\n`);
    console.log(`| modality | ${t.columns.map((c) => c.name).join(' | ')} |`);
    console.log(`|---|${t.columns.map(() => '---').join('|')}|`);
    for (const m of t.modalities) {
      console.log(`| ${m} | ${t.columns.map((c) => { const s = t.cells.get(`${m}\u0000${c.key}`); return s ? cell(s) : '-'; }).join(' | ')} |`);
    }
    console.log('');
  }
} else if (values.view === 'data-free') {
  console.log('| method | teacher -> student | seeds | top-1 mean ± std | synthesis seconds | images generated |');
  console.log('|---|---|---|---|---|---|');
  for (const r of dataFreeView(rows, 'last_top1', meta)) {
    console.log(`| ${r.name} | ${r.teacher} -> ${r.student} | ${r.seeds.join(', ')} | ${cell(r.top1)} | ${cell(r.synthesisSeconds, 0)} | ${cell(r.imagesGenerated, 0)} |`);
  }
} else {
  throw new Error(`--view must be cross-modal or data-free, got '${values.view}'`);
}
