/**
 * Prints, for one results file, a markdown table per leaderboard (dataset x protocol): each
 * method's mean ± std over seeds, its gain over the vanilla student with the seed-paired spread,
 * and the Kendall tau-b between the measured ordering and a published table's ordering of the
 * same methods (default: the CRD table's resnet56 -> resnet20 pair on CIFAR-100). With
 * `--survey`, the published column lists instead every row of the survey's Tables 5 and 6 for the
 * method (its own pair and gain: the survey collects each paper's setting), and `--methods` keeps
 * only some methods (plus vanilla and kd).
 *
 *   npx tsx benchmarks/scripts/gain-table.ts results/results.arrow [--teacher resnet56 --student resnet20]
 *   npx tsx benchmarks/scripts/gain-table.ts results/results.arrow --survey --methods dml,one,kdcl
 */
import { readResultFiles, registry, scriptArgs } from '@kdbench/harness';
import { buildLeaderboards, kendallTauB, loadPublished, std } from '@kdbench/report';

const { values, positionals } = scriptArgs(import.meta.url, {
  teacher: { type: 'string', default: 'resnet56' }, student: { type: 'string', default: 'resnet20' },
  survey: { type: 'boolean', default: false }, methods: { type: 'string' },
}, '[RESULTS.arrow ...] [--teacher resnet56 --student resnet20] [--survey] [--methods a,b]');
const keep = values.methods ? new Set(['vanilla', 'kd', ...values.methods.split(',')]) : null;
const rows = readResultFiles(positionals.length ? positionals : ['results/results.arrow']).filter((r) => !keep || keep.has(r.method));
const surveyRows = loadPublished().filter((t) => t.id === 'survey-t5' || t.id === 'survey-t6').flatMap((t) => t.rows.map((r) => ({ ...r, tableTitle: t.id === 'survey-t5' ? 'T5' : 'T6' })));
const surveyCell = (method: string) => surveyRows.filter((r) => r.methodId === method)
  .map((r) => `${r.tableTitle} ${r.teacher ? `${r.teacher}→` : ''}${r.student}: ${r.gain === null ? 'n/a' : (r.gain >= 0 ? '+' : '') + r.gain.toFixed(2)}`).join('; ');
const published = new Map(
  loadPublished()
    .filter((t) => t.id === 'crd' || t.id === 'dkd') // CRD table, plus the DKD rows for dkd
    .flatMap((t) => t.rows)
    .filter((r) => r.teacherId === values.teacher && r.studentId === values.student && r.methodId)
    .map((r) => [r.methodId!, r.distilledAcc ?? NaN]),
);

for (const board of buildLeaderboards(rows, registry.list())) {
  console.log(`\n### ${board.dataset}, ${board.protocol.label}\n`);
  console.log('| method | family | n | top-1 mean ± std | gain over vanilla | paired gain per seed | ' + (values.survey ? 'survey gains (table, pair: gain)' : `published (CRD, ${values.teacher} -> ${values.student})`) + ' |');
  console.log('|---|---|---|---|---|---|---|');
  const sorted = [...board.stats].sort((a, b) => b.mean - a.mean);
  for (const m of sorted) {
    const vanilla = board.stats.find((v) => v.method === 'vanilla' && v.student === m.student); // a board may hold several students
    const paired = vanilla
      ? m.seeds.filter((s) => vanilla.seeds.includes(s)).map((s) => m.values[m.seeds.indexOf(s)]! - vanilla.values[vanilla.seeds.indexOf(s)]!)
      : [];
    const spread = paired.length > 1 ? ` (std ${std(paired)!.toFixed(2)})` : '';
    const pub = published.get(m.method);
    const pubCell = values.survey ? surveyCell(m.method) : pub === undefined ? '' : pub.toFixed(2);
    console.log(`| ${m.name} | ${m.family} | ${m.n} | ${m.mean.toFixed(2)} ± ${(m.std ?? 0).toFixed(2)} | ${m.gain === null ? 'n/a' : (m.gain >= 0 ? '+' : '') + m.gain.toFixed(2)} | ${paired.map((g) => (g >= 0 ? '+' : '') + g.toFixed(1)).join(', ')}${spread} | ${pubCell} |`);
  }
  if (values.survey) continue;
  const common = sorted.filter((m) => published.has(m.method) && Number.isFinite(published.get(m.method)!));
  if (common.length >= 2) {
    const tau = kendallTauB(common.map((m) => m.mean), common.map((m) => published.get(m.method)!));
    console.log(`\nKendall tau-b, measured vs published ordering of ${common.length} methods (${common.map((m) => m.method).join(', ')}): ${tau.tau === null ? 'n/a' : tau.tau.toFixed(3)} (concordant ${tau.concordant}, discordant ${tau.discordant})`);
  }
}
