/**
 * Prints a markdown table of the numbers methods report besides their student's accuracy
 * (details.extra: per-task accuracies, forgetting, search cost, model bytes, peers), mean ± std
 * over seeds per method (and non-default setting), next to last-epoch top-1.
 *
 *   npx tsx benchmarks/scripts/extras-table.ts results/results.arrow --methods finetune,joint,lwf,icarl \
 *     --keys average_incremental_accuracy,last_accuracy,forgetting
 */
import { readResultFiles, registry, scriptArgs } from '@kdbench/harness';
import { mean, std, variantOf } from '@kdbench/report';

const { values, positionals } = scriptArgs(import.meta.url, { methods: { type: 'string' }, keys: { type: 'string' }, dataset: { type: 'string', default: 'cifar10' } }, '[RESULTS.arrow ...] [--methods a,b] [--keys k1,k2] [--dataset cifar10]');
const methods = values.methods?.split(',');
const meta = new Map(registry.list().map((d) => [d.id, d]));
const rows = readResultFiles(positionals.length ? positionals : ['results/results.arrow'])
  .filter((r) => r.dataset === values.dataset && (!methods || methods.includes(r.method)));
const groups = new Map<string, typeof rows>();
for (const r of rows) {
  const v = variantOf(r, meta);
  const name = v ? `${r.method} [${v}]` : r.method;
  groups.set(name, [...(groups.get(name) ?? []), r]);
}
const extra = (r: (typeof rows)[number]) => (JSON.parse(r.details) as { extra?: Record<string, number> }).extra ?? {};
const keys = values.keys?.split(',') ?? [...new Set(rows.flatMap((r) => Object.keys(extra(r))))].sort();
const cell = (xs: number[]) => (xs.length ? `${mean(xs)!.toFixed(2)}${xs.length > 1 ? ` ± ${std(xs)!.toFixed(2)}` : ''}` : '—');
console.log(`| method | seeds | last top-1 | ${keys.join(' | ')} |`);
console.log(`|---|---|---|${keys.map(() => '---|').join('')}`);
for (const [name, g] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
  const nums = (k: string) => g.map((r) => extra(r)[k]).filter((x): x is number => typeof x === 'number');
  console.log(`| ${name} | ${g.map((r) => r.seed).sort().join(', ')} | ${cell(g.map((r) => r.last_top1))} | ${keys.map((k) => cell(nums(k))).join(' | ')} |`);
}
