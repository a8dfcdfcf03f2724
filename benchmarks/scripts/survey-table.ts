/**
 * The survey's Table 5 or 6 row by row, as RESULTS prints it (the site's survey.html shows the same
 * rows: @kdbench/report's surveyRows): each published row (method, pair, student alone -> distilled,
 * gain) beside the measured rows the report matches to it (the same method and pair, in the default
 * setting or the one the suite declares for the pair; online rows by their partner network): the
 * student alone and the distilled student as mean ± std (n), the measured gain with its 95%
 * interval over seeds (marked where the published gain lies outside it), and for DML/DCM/KDCL the
 * partner network after online training. A row nothing matches says why: which suite pair runs it
 * (and whether it is sized for GPU machines) or that no suite does.
 *
 *   npx tsx benchmarks/scripts/survey-table.ts results/results.arrow --table survey-t6
 */
import { DEFAULT_SUITES_DIR, loadSuiteDeclarations, readResultFiles, registry, scriptArgs, UsageError } from '@kdbench/harness';
import { buildLeaderboards, compare, loadPublished, outsideInterval, partnerAfter, settingVariants, signSummary, signText, statusText, surveyRows, type MethodStats, type PublishedRow } from '@kdbench/report';

const { values, positionals } = scriptArgs(import.meta.url, { table: { type: 'string', default: 'survey-t6' }, suites: { type: 'string', default: DEFAULT_SUITES_DIR } }, '[RESULTS.arrow ...] --table survey-t5|survey-t6 [--suites DIR]');
const published = loadPublished();
const table = published.find((t) => t.id === values.table);
if (!table || !table.id.startsWith('survey-')) throw new UsageError(`--table must be survey-t5 or survey-t6, got '${values.table}'`);

const methods = registry.list();
const { references, settings, placements } = loadSuiteDeclarations(values.suites!);
const rows = readResultFiles(positionals.length ? positionals : ['results/results.arrow']).filter((r) => r.dataset === table.dataset);
const boards = buildLeaderboards(rows, methods);
const declared = settingVariants(settings, new Map(methods.map((m) => [m.id, m])), published);
const comparisons = new Map(boards.map((b) => [b.id, compare(b, published, references, declared)]));

const f2 = (x: number | null | undefined) => (x === null || x === undefined ? '' : x.toFixed(2));
const signed = (x: number | null | undefined) => (x === null || x === undefined ? '' : `${x >= 0 ? '+' : ''}${x.toFixed(2)}`);
const meanStd = (s: MethodStats) => `${s.mean.toFixed(2)} ± ${(s.std ?? 0).toFixed(2)} (n=${s.n})`;
/** The measured gain, its 95% interval over seeds (paired with the vanilla student) and, when the published gain lies outside it, a mark. */
const gainText = (s: MethodStats, p: PublishedRow) => {
  if (!s.gainCi) return signed(s.gain);
  return `${signed(s.gain)} [${signed(s.gainCi[0])}, ${signed(s.gainCi[1])}]${outsideInterval(p.gain, s.gainCi) ? ' †' : ''}`;
};

console.log(`### ${table.title}: published beside measured\n`);
console.log(`Measured on: ${[...new Set(boards.map((b) => b.protocol.label))].join('; ') || 'no rows yet'}.\n`);
console.log('| # | method | pair (published) | published: student → distilled (gain) | partner after (published) | measured: student alone | measured: distilled | measured gain [95% interval] | partner after (measured) |');
console.log('|---|---|---|---|---|---|---|---|---|');
const survey = surveyRows(table, boards, comparisons, new Set(methods.map((m) => m.id)), placements);
for (const r of survey) {
  const p = r.published;
  const pair = `${p.teacher ? `${p.teacher} → ` : ''}${p.student}`;
  const pub = `${f2(p.studentAcc)} → ${f2(p.distilledAcc)} (${signed(p.gain)}${p.gainMismatch ? `, printed ${f2(p.gainPrinted)}` : ''})`;
  const head = `| ${r.index} | ${p.method} | ${pair} | ${pub} | ${f2(p.distilledTeacherAcc)} |`;
  if (r.measured.length === 0) console.log(`${head} ${statusText(r.status)} | | | |`);
  for (const { stats: s, vanilla: v, overrides } of r.measured) {
    console.log(`${head} ${v ? meanStd(v) : ''} | ${s.name}: ${meanStd(s)}${overrides ? ` [${overrides}]` : ''} | ${gainText(s, p)} | ${f2(partnerAfter(s)?.mean)} |`);
  }
}
console.log('\nMeasured gain: distilled minus the student alone; its interval is the 95% Student-t interval of the per-seed differences (from 3 seeds). †: the published gain lies outside it.');
console.log(signText(signSummary(survey)));
