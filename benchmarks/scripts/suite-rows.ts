/**
 * Writes the rows of one suite's runs (its expanded run ids) from a results file into a new Arrow
 * file, e.g. the rows a RESULTS.md section is computed from, committed under benchmarks/results/.
 * Reports the suite's runs that the results file does not hold.
 *
 *   npx tsx benchmarks/scripts/suite-rows.ts benchmarks/crd-subset-cifar100.yaml results/results.arrow \
 *     --out benchmarks/results/quick-crd-subset-cifar100.arrow
 */
import { existsSync, rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { appendResults, expandSuite, loadSuite, readResults } from '@kdbench/harness';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { out: { type: 'string' } } });
const [suiteFile, resultsFile] = positionals;
if (!suiteFile || !resultsFile || !values.out) {
  console.error('usage: suite-rows.ts SUITE.yaml RESULTS.arrow --out OUT.arrow');
  process.exit(2);
}
const plan = expandSuite(loadSuite(suiteFile));
const wanted = new Set(plan.runs.map((r) => r.id));
const rows = readResults(resultsFile).filter((r) => wanted.has(r.run_id));
const missing = plan.runs.filter((r) => !rows.some((row) => row.run_id === r.id));
if (existsSync(values.out)) rmSync(values.out);
appendResults(values.out, rows);
console.log(`${rows.length} of ${plan.runs.length} runs of ${plan.suite.name} -> ${values.out}`);
for (const r of missing) console.log(`  not recorded: ${r.label} (${r.id})`);
