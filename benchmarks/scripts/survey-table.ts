/**
 * The survey's Table 5 or 6 row by row, as RESULTS prints it: each published row (method, pair,
 * student alone -> distilled, gain) beside the measured rows the report matches to it (the same
 * method and pair, in the default setting or the one the suite declares for the pair; online rows
 * by their partner network): the student alone and the distilled student as mean ± std (n), the
 * measured gain with its 95% interval over seeds (marked where the published gain lies outside it), and for DML/DCM/KDCL the partner network after online training. A row nothing
 * matches says why: which suite pair runs it (and whether it is sized for GPU machines) or that no
 * suite does.
 *
 *   npx tsx benchmarks/scripts/survey-table.ts results/results.arrow --table survey-t6
 */
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_SUITES_DIR, loadSuite, loadSuiteDeclarations, readResults, registry, type SuitePair } from '@kdbench/harness';
import { buildLeaderboards, compare, loadPublished, partnerOf, settingVariants, type ComparisonRow, type MethodStats, type PublishedRow } from '@kdbench/report';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { table: { type: 'string', default: 'survey-t6' }, suites: { type: 'string', default: DEFAULT_SUITES_DIR } },
});
const published = loadPublished();
const table = published.find((t) => t.id === values.table);
if (!table || !table.id.startsWith('survey-')) throw new Error(`--table must be survey-t5 or survey-t6, got '${values.table}'`);

const methods = registry.list();
const meta = new Map(methods.map((m) => [m.id, m]));
const { references, settings } = loadSuiteDeclarations(values.suites!);
const rows = readResults(positionals[0] ?? 'results/results.arrow').filter((r) => r.dataset === table.dataset);
const boards = buildLeaderboards(rows, methods);
const declared = settingVariants(settings, meta, published);
/** Every board's comparisons, each with the vanilla student of its own board (rows at other widths sit on other boards). */
const matches: (ComparisonRow & { overrides: string; vanilla: MethodStats | undefined })[] = boards.flatMap((b) => compare(b, published, references, declared)
  .map((c) => ({ ...c, overrides: /\[(.*)\]/.exec(b.protocol.label)?.[1] ?? '', vanilla: b.stats.find((v) => v.method === 'vanilla' && !v.variant && v.student === c.stats.student) })));

/** The survey suites' pairs on this table's dataset: where a row would run. */
const suitePairs = readdirSync(values.suites!).filter((f) => /^survey-.*\.ya?ml$/.test(f))
  .flatMap((f) => loadSuite(relative(process.cwd(), join(values.suites!, f))).pairs)
  .filter((sp) => sp.datasets.includes(table.dataset));
/** The partner network a suite pair gives a teacher-free method (its peer or booster), as the report names it. */
const suitePartner = (sp: SuitePair, method: string) => partnerOf({
  method, student: sp.student, teacher: '', hyperparameters: JSON.stringify({ ...meta.get(method)?.defaults, ...sp.hp[method] }),
}, meta);
/** The suite pairs that run a published row: its method on its student, with its teacher (offline) or its partner network (online, self). */
const runningPairs = (p: PublishedRow) => suitePairs.filter((sp) => p.methodId !== null && sp.methods.includes(p.methodId) && sp.student === p.studentId
  && (p.scheme === 'offline' ? sp.teacher === p.teacherId : !sp.teacher && suitePartner(sp, p.methodId) === p.teacherId));

const f2 = (x: number | null | undefined) => (x === null || x === undefined ? '' : x.toFixed(2));
const signed = (x: number | null | undefined) => (x === null || x === undefined ? '' : `${x >= 0 ? '+' : ''}${x.toFixed(2)}`);
const meanStd = (s: MethodStats) => `${s.mean.toFixed(2)} ± ${(s.std ?? 0).toFixed(2)} (n=${s.n})`;
/** The measured gain, its 95% interval over seeds (paired with the vanilla student) and, when the published gain lies outside it, a mark. */
const gainText = (s: MethodStats, p: PublishedRow) => {
  if (!s.gainCi) return signed(s.gain);
  const outside = p.gain !== null && (p.gain < s.gainCi[0] || p.gain > s.gainCi[1]);
  return `${signed(s.gain)} [${signed(s.gainCi[0])}, ${signed(s.gainCi[1])}]${outside ? ' †' : ''}`;
};

console.log(`### ${table.title}: published beside measured\n`);
console.log(`Measured on: ${[...new Set(boards.map((b) => b.protocol.label))].join('; ') || 'no rows yet'}.\n`);
console.log('| # | method | pair (published) | published: student → distilled (gain) | partner after (published) | measured: student alone | measured: distilled | measured gain [95% interval] | partner after (measured) |');
console.log('|---|---|---|---|---|---|---|---|---|');
table.rows.forEach((p, i) => {
  const pair = `${p.teacher ? `${p.teacher} → ` : ''}${p.student}`;
  const pub = `${f2(p.studentAcc)} → ${f2(p.distilledAcc)} (${signed(p.gain)}${p.gainMismatch ? `, printed ${f2(p.gainPrinted)}` : ''})`;
  const hits = matches.filter((c) => c.published === p);
  const head = `| ${i + 1} | ${p.method} | ${pair} | ${pub} | ${f2(p.distilledTeacherAcc)} |`;
  if (hits.length === 0) {
    const where = runningPairs(p);
    const why = p.methodId === null || !meta.has(p.methodId) ? 'not implemented (see the suite file\'s header)'
      : where.length === 0 ? `no suite pair runs ${p.methodId} on it`
        : where.some((sp) => !sp.gpu) ? `not run yet (${where.map((sp) => sp.where).join(', ')})` : `GPU-sized pair, not run here (${where.map((sp) => sp.where).join(', ')})`;
    console.log(`${head} ${why} | | | |`);
    return;
  }
  for (const c of hits) {
    const [s, v] = [c.stats, c.vanilla];
    const at = c.overrides ? ` [${c.overrides}]` : '';
    console.log(`${head} ${v ? meanStd(v) : ''} | ${s.name}: ${meanStd(s)}${at} | ${gainText(s, p)} | ${f2(s.extras.peer1?.mean)} |`);
  }
});
console.log('\nMeasured gain: distilled minus the student alone; its interval is the 95% Student-t interval of the per-seed differences (from 3 seeds). †: the published gain lies outside it.');
