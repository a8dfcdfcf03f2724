/**
 * Adds the rows of one suite's runs (its expanded run ids) from a results file to an Arrow file,
 * e.g. the rows a RESULTS.md section is computed from, committed under benchmarks/results/.
 * Nothing already in the output is lost: a run it holds is replaced only by a row of the same run
 * recorded later, and its rows that are not runs of the suite (any more) are kept and counted
 * (delete the file first to rebuild it from the results file alone). Reports the suite's runs that
 * neither file holds, a line per pair, method and settings with their seeds.
 *
 *   npx tsx benchmarks/scripts/suite-rows.ts benchmarks/crd-subset-cifar100.yaml results/results.arrow \
 *     --out benchmarks/results/quick-crd-subset-cifar100.arrow
 */
import { appendResults, expandSuite, loadSuite, readResultFiles, readResults, scriptArgs, UsageError, type ResultRow } from '@kdbench/harness';

const { values, positionals } = scriptArgs(import.meta.url, { out: { type: 'string' } }, 'SUITE.yaml RESULTS.arrow --out OUT.arrow');
const [suiteFile, resultsFile] = positionals;
const out = values.out;
if (!suiteFile || !resultsFile || !out || positionals.length > 2) throw new UsageError('give one suite file, one results file and --out');
const plan = expandSuite(loadSuite(suiteFile));
const wanted = new Set(plan.runs.map((r) => r.id));
const recorded = new Map(readResults(out).map((r) => [r.run_id, r])); // a missing output is empty, a damaged one an error
const isNew = (r: ResultRow) => { const prior = recorded.get(r.run_id); return !prior || r.date > prior.date; }; // an unchanged row is not rewritten
const added = readResultFiles([resultsFile]).filter((r) => wanted.has(r.run_id) && isNew(r));
if (added.length) appendResults(out, added);
const held = new Set([...recorded.keys(), ...added.map((r) => r.run_id)]);
const foreign = [...recorded.keys()].filter((id) => !wanted.has(id)).length;
const notHeld = plan.runs.filter((r) => !held.has(r.id));
console.log(`${plan.runs.length - notHeld.length} of ${plan.runs.length} runs of ${plan.suite.name} in ${out} (${added.length} written from ${resultsFile})`
  + (foreign ? `; it also holds ${foreign} rows that are not runs of the suite (kept)` : ''));
const missing = new Map<string, number[]>(); // the runs neither file holds, by pair, method and settings (the label without its seed)
for (const r of notHeld) {
  const what = r.label.replace(/ s\d+$/, '');
  missing.set(what, [...(missing.get(what) ?? []), r.request.seed]);
}
if (missing.size) console.log(`not recorded: ${notHeld.length} runs`);
for (const [what, seeds] of missing) console.log(`  ${what}: seed${seeds.length > 1 ? 's' : ''} ${seeds.join(', ')}`);
