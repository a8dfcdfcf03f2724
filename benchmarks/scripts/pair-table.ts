/**
 * The CRD table's comparison for one teacher/student pair, as RESULTS prints it: per method the
 * measured top-1 (mean ± std over seeds, n), the gain over the vanilla student of the same seeds,
 * the published top-1 and gain (the CRD table; DKD from its paper), whether the two gains have the
 * same sign; then Kendall tau-b between the measured and the published ordering of the CRD table's
 * methods (vanilla included) with its 95% bootstrap interval over seeds, and the share of methods
 * whose gain has the published sign. The measured rows are the pair's own (`--teacher`/`--student`)
 * or a stand-in's (`--measured-teacher`/`--measured-student`).
 *
 *   npx tsx benchmarks/scripts/pair-table.ts benchmarks/results/quick-crd-pairs-cifar100.arrow --teacher resnet56 --student resnet20
 */
import { readResultFiles, registry, scriptArgs } from '@kdbench/harness';
import { buildLeaderboards, intervalSide, loadPublished, signCounts, std, tauWithInterval, type PublishedRow } from '@kdbench/report';

const { values, positionals } = scriptArgs(import.meta.url, {
  teacher: { type: 'string', default: 'resnet56' }, student: { type: 'string', default: 'resnet20' },
  'measured-teacher': { type: 'string' }, 'measured-student': { type: 'string' }, dataset: { type: 'string', default: 'cifar100' },
}, '[RESULTS.arrow ...] --teacher T --student S [--measured-teacher T2 --measured-student S2] [--dataset cifar100]');
const teacher = values['measured-teacher'] ?? values.teacher!;
const student = values['measured-student'] ?? values.student!;
const rows = readResultFiles(positionals.length ? positionals : ['results/results.arrow'])
  .filter((r) => r.dataset === values.dataset && r.student === student && (r.teacher === teacher || r.method === 'vanilla'));

const tables = loadPublished();
const pairRows = (id: string): PublishedRow[] => tables.find((t) => t.id === id)?.rows
  .filter((r) => r.teacherId === values.teacher && r.studentId === values.student) ?? [];
const crd = new Map(pairRows('crd').map((r) => [r.methodId ?? '', r]));
const dkd = pairRows('dkd').find((r) => r.methodId === 'dkd');
/** The published row of a method's default variant (a variant is not the configuration the table ran). */
const published = (m: { method: string; variant: string }) => (m.variant ? undefined : m.method === 'dkd' ? dkd : crd.get(m.method));
const signed = (x: number | null | undefined, digits = 2) => (x === null || x === undefined ? '' : `${x >= 0 ? '+' : ''}${x.toFixed(digits)}`);

for (const board of buildLeaderboards(rows, registry.list())) {
  const vanilla = board.stats.find((m) => m.method === 'vanilla');
  if (!vanilla) continue;
  console.log(`\n### ${values.teacher} -> ${values.student}${teacher !== values.teacher || student !== values.student ? ` (measured on ${teacher} -> ${student})` : ''}, ${board.protocol.label}\n`);
  console.log(`Teacher ${teacher}: ${board.rows.find((r) => r.teacher === teacher)?.teacher_top1?.toFixed(2) ?? 'n/a'} (published ${[...crd.values()].find((r) => r.teacherAcc !== null)?.teacherAcc ?? 'n/a'}).\n`);
  console.log('| method | n | top-1 mean ± std | gain over vanilla (per seed) [95% interval] | published top-1 | published gain | same sign (clear: beyond seed noise) |');
  console.log('|---|---|---|---|---|---|---|');
  const sorted = [...board.stats].sort((a, b) => b.mean - a.mean);
  for (const m of sorted) {
    const paired = m.seeds.filter((s) => vanilla.seeds.includes(s)).map((s) => m.values[m.seeds.indexOf(s)]! - vanilla.values[vanilla.seeds.indexOf(s)]!);
    const p = published(m);
    // 'clear': the gain's 95% interval over seeds lies on its side of zero
    const clear = m.gain !== null && intervalSide(m.gainCi) === Math.sign(m.gain) ? ' (clear)' : '';
    const same = m.method === 'vanilla' || m.gain === null || !p || p.gain === null ? ''
      : `${Math.sign(m.gain) === Math.sign(p.gain) ? 'yes' : '**no**'}${clear}`;
    console.log(`| ${m.name} | ${m.n} | ${m.mean.toFixed(2)} ± ${(std(m.values) ?? 0).toFixed(2)} | ${signed(m.gain)} (${paired.map((g) => signed(g, 1)).join(', ')})${m.gainCi ? ` [${signed(m.gainCi[0])}, ${signed(m.gainCi[1])}]` : ''} | ${p?.distilledAcc?.toFixed(2) ?? ''}${m.method === 'dkd' && p ? ' (DKD paper)' : ''} | ${signed(p?.gain)} | ${same} |`);
  }
  const compared = sorted.filter((m) => !m.variant && crd.get(m.method)?.distilledAcc != null);
  if (compared.filter((m) => m.method !== 'vanilla').length === 0) {
    console.log(`\nNo method of the CRD table on this board: no ordering to compare.`);
    continue;
  }
  const t = tauWithInterval(compared.map((m) => m.values), compared.map((m) => crd.get(m.method)!.distilledAcc!));
  const signedMethods = compared.filter((m) => m.method !== 'vanilla' && m.gain !== null && crd.get(m.method)!.gain !== null);
  const signs = signCounts(signedMethods.map((m) => ({ gain: m.gain!, gainCi: m.gainCi, published: crd.get(m.method)!.gain! })));
  const nMin = Math.min(...compared.map((m) => m.n));
  console.log(`\nKendall tau-b against the CRD table's ordering of ${compared.length} methods (vanilla included, DKD not: another paper and protocol): `
    + `${t.tau === null ? 'n/a' : t.tau.toFixed(2)}${t.interval ? `, 95% bootstrap interval over seeds [${t.interval[0].toFixed(2)}, ${t.interval[1].toFixed(2)}]` : ''} `
    + `(concordant ${t.concordant}, discordant ${t.discordant}; n = ${nMin}${nMin === Math.max(...compared.map((m) => m.n)) ? '' : `-${Math.max(...compared.map((m) => m.n))}`} seeds per method).`);
  console.log(`Gains with the published sign: ${signs.agree} of ${signs.compared} methods; beyond seed noise (95% interval clear of zero) ${signs.agreeClear} with it and ${signs.againstClear} against it.`);
}
