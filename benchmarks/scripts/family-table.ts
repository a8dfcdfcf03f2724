/**
 * Prints one of the report's family views over a results file as markdown: the cross-modal
 * modality x method table, the data-free table (accuracy, synthesis time, images generated), or the
 * graph table (each method's top-1 and its gains over vanilla and kd, then the numbers ktg and
 * graphdistill report: the accuracy of ktg's other networks, graphdistill's learned modality weights).
 *
 *   npx tsx benchmarks/scripts/family-table.ts results/results.arrow --view cross-modal [--dataset cifar10] [--protocol quick]
 *   npx tsx benchmarks/scripts/family-table.ts results/results.arrow --view data-free
 *   npx tsx benchmarks/scripts/family-table.ts results/results.arrow --view graph --dataset cifar100
 */
import { readResultFiles, registry, scriptArgs, UsageError } from '@kdbench/harness';
import { crossModalView, dataFreeView, graphView, mean, std, type ReportRow } from '@kdbench/report';

const { values, positionals } = scriptArgs(import.meta.url, { view: { type: 'string', default: 'cross-modal' }, dataset: { type: 'string', default: 'cifar10' }, protocol: { type: 'string', default: 'quick' } }, '[RESULTS.arrow ...] --view cross-modal|data-free|graph [--dataset cifar10] [--protocol quick]');
const rows = readResultFiles(positionals.length ? positionals : ['results/results.arrow'])
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
} else if (values.view === 'graph') {
  const signed = (x: number | null) => (x === null ? '-' : `${x >= 0 ? '+' : ''}${x.toFixed(2)}`);
  const view = graphView(rows, 'last_top1', meta);
  console.log('| method | the graph | teacher -> student | input | seeds | top-1 mean ± std | vs vanilla | vs kd |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of view) {
    const gain = (ref: number | null) => signed(r.top1.mean === null || ref === null ? null : r.top1.mean - ref);
    console.log(`| ${r.name} | ${r.structure?.role ?? '-'} | ${r.teacher} -> ${r.student} | ${r.input} | ${r.top1.seeds.join(', ')} | ${cell(r.top1)} | ${gain(r.vanilla)} | ${gain(r.kd)} |`);
  }
  // what ktg and graphdistill report besides the student's accuracy, mean ± std over seeds
  const extraOf = (x: ReportRow) => (JSON.parse(x.details || '{}') as { extra?: Record<string, number> }).extra ?? {};
  const reported = (r: (typeof view)[number], key: string) => {
    const xs = r.runs.map((x) => extraOf(x)[key]).filter((v): v is number => typeof v === 'number');
    return { n: xs.length, mean: xs.length ? mean(xs) : null, std: xs.length > 1 ? std(xs) : null };
  };
  for (const r of view.filter((x) => x.method === 'ktg' || x.method === 'graphdistill')) {
    const keys = [...new Set(r.runs.flatMap((x) => Object.keys(extraOf(x))))]
      .filter((k) => !/^candidate_\d+_/.test(k)).sort();
    console.log(`\n${r.name} (${r.teacher} -> ${r.student}): ${keys.map((k) => `${k} ${cell(reported(r, k), k.startsWith('edge_') ? 3 : 2)}`).join('; ')}`);
  }
} else {
  throw new UsageError(`--view must be cross-modal, data-free or graph, got '${values.view}'`);
}
