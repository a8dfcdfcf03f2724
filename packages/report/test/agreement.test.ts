/**
 * A declared reference pair, end to end in the report: FABRICATED TEST DATA (made-up accuracies,
 * labelled as such) on resnet20 -> resnet8, declared to stand in for the CRD table's resnet56 -> resnet20.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { agreements, buildLeaderboards, buildSite, compare, loadPublished, type PairReference, type ReportRow } from '../src/index.js';
import { TEST_METHODS } from './fixtures.js';

const LABEL = 'TEST DATA (fabricated for the reference-pair test, not measured) · quick';
const FAMILY: Record<string, string> = { vanilla: 'baseline', kd: 'response', fitnet: 'feature', at: 'attention', crd: 'relation' };
// measured order kd > crd > fitnet > at > vanilla; the CRD table's resnet56 -> resnet20 order is
// crd 71.16 > kd 70.66 > at 70.55 > fitnet 69.21 > Student 69.06: 10 pairs, (crd, kd) and (at, fitnet) discordant -> tau-b 0.6
const SEEDS: Record<string, number[]> = { kd: [30.5, 31, 31.5], crd: [29.5, 30, 30.5], fitnet: [28.5, 29, 29.5], at: [27.5, 28, 28.5], vanilla: [24.5, 25, 25.5] };

function row(method: string, seed: number, acc: number): ReportRow {
  return {
    run_id: `ref-${method}-${seed}`, method, family: FAMILY[method]!, knowledge: 'x', scheme: 'offline', dataset: 'cifar100', split: 'holdout',
    split_description: 'holdout [TEST DATA]', teacher: method === 'vanilla' ? '' : 'resnet20', student: 'resnet8', protocol: 'quick', protocol_label: LABEL,
    seed, epochs: 12, best_top1: acc, last_top1: acc, train_seconds: 10, images_per_second: 100, backend: 'wasm+native', teacher_top1: method === 'vanilla' ? null : 26,
    student_params: 78_000, student_flops: 3_200_000, git_commit: 'abc123def456', date: '2026-11-28T00:00:00Z', details: '{}',
  };
}
const rows = Object.entries(SEEDS).flatMap(([m, accs]) => accs.map((a, i) => row(m, i + 1, a)));
const REF: PairReference = {
  dataset: 'cifar100', teacher: 'resnet20', student: 'resnet8', table: 'crd', publishedTeacher: 'resnet56', publishedStudent: 'resnet20',
  declaredIn: 'benchmarks/test-suite.yaml:12',
};
const published = loadPublished();
const dir = mkdtempSync(join(tmpdir(), 'kdbench-reference-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a declared reference pair', () => {
  const [board] = buildLeaderboards(rows, TEST_METHODS);

  it('matches nothing without the declaration: no published table has resnet20 -> resnet8', () => {
    expect(compare(board!, published).every((c) => c.published === null)).toBe(true);
    expect(agreements(compare(board!, published), published)).toEqual([]);
  });

  it("matches the methods to the CRD table's resnet56 -> resnet20 rows through it, vanilla to the Student row", () => {
    const cmp = compare(board!, published, [REF]);
    const matched = cmp.filter((c) => c.published).map((c) => `${c.stats.method}:${c.published!.method}:${c.published!.distilledAcc}:${c.via?.table}`);
    expect(matched.sort()).toEqual(['at:AT:70.55:crd', 'crd:CRD:71.16:crd', 'fitnet:FitNet:69.21:crd', 'kd:KD:70.66:crd', 'vanilla:Student:69.06:crd']);
    // a declaration for another dataset or pair does not apply
    expect(compare(board!, published, [{ ...REF, dataset: 'cifar10' }]).every((c) => c.published === null)).toBe(true);
  });

  it('computes tau-b with a bootstrap interval, the gain-sign share and the two orderings', () => {
    const [a, ...rest] = agreements(compare(board!, published, [REF]), published);
    expect(rest).toEqual([]);
    expect(a!.tau).toBeCloseTo(0.6, 12);
    expect([a!.concordant, a!.discordant]).toEqual([8, 2]);
    expect(a!.tauInterval![0]).toBeLessThanOrEqual(0.6);
    expect(a!.tauInterval![1]).toBeGreaterThanOrEqual(0.6);
    expect(a!.tauInterval![1]).toBeLessThanOrEqual(1);
    expect(a!.minSeeds).toBe(3);
    // every measured gain over vanilla (25) is positive, as every published one (over 69.06)
    expect([a!.signAgree, a!.signTotal]).toEqual([4, 4]);
    // each method's per-seed differences from vanilla are constant (kd: 6, 6, 6): intervals of width 0, clear of zero
    expect([a!.signAgreeClear, a!.signDisagreeClear]).toEqual([4, 0]);
    expect(a!.published.map((o) => o.method)).toEqual(['crd', 'kd', 'at', 'fitnet', 'vanilla']);
    expect(a!.measured.map((o) => o.method)).toEqual(['kd', 'crd', 'fitnet', 'at', 'vanilla']);
    expect([a!.pair, a!.publishedPair]).toEqual(['resnet20 → resnet8', 'resnet56 → resnet20']);
  });

  it('shows the agreement box with tau and the orderings side by side, says what stands in for what, and links published.html to the measured rows', async () => {
    await buildSite({ rows, methods: TEST_METHODS, published, references: [REF], outDir: dir, generatedAt: 'test' });
    const page = readFileSync(join(dir, 'cifar100-quick.html'), 'utf8');
    const box = page.slice(page.indexOf('id="agreement"'), page.indexOf('</section>', page.indexOf('id="agreement"')));
    expect(box).toContain('resnet20 → resnet8 stands in for resnet56 → resnet20 of the CRD table');
    expect(box).toContain('benchmarks/test-suite.yaml:12');
    expect(box).toContain('<span class="tau">0.60</span>');
    expect(box).toContain('4 of 4 methods (100%)');
    expect(box).toContain('Beyond seed noise (the gain\'s 95% interval clear of zero): 4 with the published sign, 0 against it.');
    const order = (cls: string) => [...box.slice(box.indexOf(`<div class="${cls}">`)).split('</ol>')[0]!.matchAll(/<li data-method="([a-z]+)"/g)].map((m) => m[1]);
    expect(order('published')).toEqual(['crd', 'kd', 'at', 'fitnet', 'vanilla']);
    expect(order('measured')).toEqual(['kd', 'crd', 'fitnet', 'at', 'vanilla']);
    // the comparison table says the match goes through the stand-in
    const kd = page.split('<tr').find((r) => r.includes('data-method="kd"') && r.includes('class="matched"'))!;
    expect(kd).toContain('stands in for resnet56 → resnet20 of the CRD table');
    // the measured gain (+6) with its interval; the published gain (70.66 - 69.06 = +1.60) is outside it
    expect(kd).toContain('class="num gain-outside"');
    expect(kd).toContain('<div class="small muted gain-ci">[+6.00, +6.00]</div>');
    const pub = readFileSync(join(dir, 'published.html'), 'utf8');
    const crdKd = pub.slice(pub.indexOf('id="published-crd"')).split('<tr').find((r) => r.includes('data-method="KD"') && r.includes('(resnet56)'))!;
    expect(crdKd).toContain('<a class="measured" href="cifar100-quick.html#method-kd--resnet20--resnet8">cifar100 · quick: 31.00</a>');
    expect(crdKd).toContain('stand-in');
  });
});
