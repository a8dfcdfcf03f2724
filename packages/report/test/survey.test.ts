/**
 * The survey's tables row by row (survey.ts) and survey.html. FABRICATED TEST DATA: made-up
 * accuracies, labelled as such, on the pairs of Table 5's first rows.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildLeaderboards, buildSite, compare, loadPublished, signSummary, signText, surveyRows, type MethodMeta, type ReportRow, type SuitePlacement } from '../src/index.js';
import { TEST_METHODS } from './fixtures.js';

const LABEL = 'TEST DATA (fabricated for the survey page test, not measured) · quick';
const METHODS: MethodMeta[] = [...TEST_METHODS, ...['fsp', 'ft', 'sp', 'irg'].map((id) => ({ id, title: id, family: 'feature', knowledge: 'feature', scheme: 'offline', paper: null } as MethodMeta))];

function row(method: string, teacher: string, seed: number, acc: number): ReportRow {
  return {
    run_id: `survey-${method}-${seed}`, method, family: method === 'vanilla' ? 'baseline' : 'feature', knowledge: 'x', scheme: 'offline', dataset: 'cifar10', split: 'test',
    split_description: 'test [TEST DATA]', teacher, student: 'resnet8', protocol: 'quick', protocol_label: LABEL, seed, epochs: 12, best_top1: acc, last_top1: acc,
    train_seconds: 10, images_per_second: 100, backend: 'wasm+native', teacher_top1: teacher ? 60 : null, student_params: 1, student_flops: 1,
    git_commit: 'abc123def456', date: '2026-12-07T00:00:00Z', details: '{}',
  };
}
// vanilla 46, 47, 46.5; FSP (ResNet26 -> ResNet8, Table 5's row 1) 49, 50.5, 49: per-seed gains 3, 3.5, 2.5
const rows = [...[46, 47, 46.5].map((a, i) => row('vanilla', '', i + 1, a)), ...[49, 50.5, 49].map((a, i) => row('fsp', 'resnet26', i + 1, a))];
const placements: SuitePlacement[] = [
  { dataset: 'cifar10', teacher: 'resnet56', student: 'resnet20', method: 'ft', partner: null, where: 'benchmarks/t.yaml:3', gpu: false },
  { dataset: 'cifar10', teacher: 'wrn_40_2', student: 'wrn_16_8', method: 'sp', partner: null, where: 'benchmarks/t.yaml:9', gpu: true },
  { dataset: 'cifar100', teacher: 'resnet20', student: 'resnet20@0.5', method: 'irg', partner: null, where: 'benchmarks/t.yaml:12', gpu: false }, // another dataset
];
const published = loadPublished();
const t5 = published.find((t) => t.id === 'survey-t5')!;
const dir = mkdtempSync(join(tmpdir(), 'kdbench-survey-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the survey tables row by row', () => {
  const boards = buildLeaderboards(rows, METHODS);
  const comparisons = new Map(boards.map((b) => [b.id, compare(b, published)]));
  const survey = surveyRows(t5, boards, comparisons, new Set(METHODS.map((m) => m.id)), placements);
  const at = (method: string, student: string) => survey.find((r) => r.published.method === method && r.published.student === student)!;

  it('lists every published row, in order', () => {
    expect(survey.map((r) => r.index)).toEqual(t5.rows.map((_, i) => i + 1));
  });

  it('sets a measured row beside its vanilla student, with the gain and its interval over seeds', () => {
    const fsp = survey[0]!;
    expect([fsp.published.method, fsp.status.kind, fsp.measured.length]).toEqual(['FSP', 'measured', 1]);
    const m = fsp.measured[0]!;
    expect(m.vanilla!.mean).toBeCloseTo(46.5, 12);
    expect(m.stats.gain).toBeCloseTo(3, 12);
    // differences 3, 3.5, 2.5: sd 0.5, half-width t(0.975, 2) x 0.5 / sqrt 3 = 1.242069
    expect(m.stats.gainCi![0]).toBeCloseTo(3 - 1.242069, 5);
    expect(m.stats.gainCi![1]).toBeCloseTo(3 + 1.242069, 5);
  });

  it('says why a row has no measurement: not implemented, not run yet (where), GPU-sized, or in no suite', () => {
    expect(at('AdaIN', 'ResNet8').status).toEqual({ kind: 'not-implemented' });
    expect(at('FT', 'ResNet20').status).toEqual({ kind: 'not-run', where: ['benchmarks/t.yaml:3'] });
    expect(at('SP', 'WRN-16-8').status).toEqual({ kind: 'gpu', where: ['benchmarks/t.yaml:9'] });
    expect(at('IRG', 'ResNet20-x0.5').status).toEqual({ kind: 'no-suite' }); // the only irg placement is on CIFAR-100
  });

  it('sums up the signs: with the published one or not, and how many beyond seed noise', () => {
    expect(signSummary(survey)).toEqual({ compared: 1, agree: 1, agreeClear: 1, against: 0, againstClear: 0 }); // FSP: +3.00 [+1.76, +4.24] against +0.79
    const ci = (lo: number, hi: number, gain: number) => ({ ...survey[0]!, measured: [{ ...survey[0]!.measured[0]!, stats: { ...survey[0]!.measured[0]!.stats, gain, gainCi: [lo, hi] as [number, number] } }] });
    const rows = [ci(1, 5, 3), ci(-2, 4, 1), ci(-6, -1, -3), ci(-4, 2, -1), { ...ci(-4, 2, -1), published: { ...survey[0]!.published, gain: null } }];
    expect(signSummary(rows)).toEqual({ compared: 4, agree: 2, agreeClear: 1, against: 2, againstClear: 1 });
    expect(signText(signSummary(rows))).toBe('Of 4 measured gains, 2 have the published sign (1 with a 95% interval clear of zero) and 2 the other (1 clear of zero).');
  });

  it('renders survey.html: the rows, the reasons, a gain chart, and a link from every page', async () => {
    await buildSite({ rows, methods: METHODS, published, placements, outDir: dir, generatedAt: 'test' });
    const page = readFileSync(join(dir, 'survey.html'), 'utf8');
    const t5Section = page.slice(page.indexOf('id="survey-t5"'), page.indexOf('</table>', page.indexOf('id="survey-t5"')));
    const fsp = t5Section.split('<tr').find((r) => r.includes('data-status="measured"') && r.includes('data-method="fsp"'))!;
    expect(fsp).toContain('href="cifar10-quick.html#method-fsp--resnet26--resnet8"');
    expect(fsp).toContain('+3.00<div class="small muted gain-ci">[+1.76, +4.24]</div>');
    expect(fsp).toContain('gain-outside'); // the published +0.79 is below the interval
    expect(t5Section).toContain('not run yet (benchmarks/t.yaml:3)');
    expect(t5Section).toContain('GPU-sized pair, not run here (benchmarks/t.yaml:9)');
    expect(page).toContain(`${t5.rows.length} rows: 1 measured, 1 runnable here, not run yet, 1 sized for GPU machines`);
    expect(page).toContain('<p class="signs">Of 1 measured gain, 1 has the published sign (1 with a 95% interval clear of zero) and 0 the other (0 clear of zero).</p>');
    expect(page.slice(page.indexOf('id="chart-survey-t5"'))).toMatch(/^[^]*?<svg/);
    expect(page).toContain('No row measured yet: no chart.'); // Table 6: no CIFAR-100 rows
    expect(readFileSync(join(dir, 'index.html'), 'utf8')).toContain('href="survey.html"');
  });
});
