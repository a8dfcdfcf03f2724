import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { agreements, buildLeaderboards, buildSite, compare, loadPublished, parseCsv, renderCharts } from '../src/index.js';
import { TEST_LABEL, TEST_METHODS, testRows } from './fixtures.js';

const published = loadPublished();
const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'kdbench-report-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('leaderboards (fabricated test rows)', () => {
  const boards = buildLeaderboards(testRows(), TEST_METHODS);
  const c100 = boards.find((b) => b.id === 'cifar100-quick')!;
  const get = (method: string, student: string) => c100.stats.find((s) => s.method === method && s.student === student)!;

  it('makes one leaderboard per dataset and protocol', () => {
    expect(boards.map((b) => b.id)).toEqual(['cifar10-quick', 'cifar100-quick']);
    expect(c100.protocol.label).toBe(TEST_LABEL);
    expect(c100.protocol.widths).toEqual([0.5]);
    expect(c100.protocol.epochs).toEqual([12]);
    expect(c100.protocol.commits).toHaveLength(3);
  });

  it('summarises seeds: mean, std, 95% CI, gain over vanilla, paired t-test against KD', () => {
    const dkd = get('dkd', 'wrn_16_2');
    // [63.0, 63.4, 62.2]: mean 62.866667, std sqrt(0.746667/2) = 0.611010, half = 4.302653 * 0.611010 / sqrt3 = 1.517829
    expect(dkd.n).toBe(3);
    expect(dkd.mean).toBeCloseTo(62.866667, 5);
    expect(dkd.std).toBeCloseTo(0.61101, 5);
    expect(dkd.ciHalf).toBeCloseTo(1.517829, 4);
    // vanilla [60.0, 61.0, 59.5] -> 60.166667
    expect(dkd.gain).toBeCloseTo(2.7, 6);
    // against KD seeds 0-2 [62.0, 62.5, 61.5]: d = [1.0, 0.9, 0.7], t = 9.827076, df 2, p = 0.010197
    expect(dkd.vsKd!.n).toBe(3);
    expect(dkd.vsKd!.p).toBeCloseTo(0.010197, 5);
    // corrected for the board's 9 tests against KD (both pairs): never below the uncorrected p, at most 9 p
    expect(c100.stats.filter((s) => s.vsKd?.p != null)).toHaveLength(9);
    expect(dkd.vsKd!.pHolm!).toBeGreaterThanOrEqual(dkd.vsKd!.p!);
    expect(dkd.vsKd!.pHolm!).toBeLessThanOrEqual(Math.min(1, 9 * dkd.vsKd!.p!) + 1e-12);
    // every ranked row has 3 seeds or more: rank groups; vanilla is a reference, not ranked
    expect(c100.rankKind).toBe('group');
    expect(get('crd', 'wrn_16_2').rank!.point).toBe(1);
    expect(get('vanilla', 'wrn_16_2').rank).toBeNull();
    const kd = get('kd', 'wrn_16_2');
    expect(kd.n).toBe(5); // seeds 0-2 and two earlier nightly runs
    expect(kd.vsKd).toBeNull();
    const vanilla = get('vanilla', 'wrn_16_2');
    expect(vanilla.pairs).toEqual(['wrn_16_2', 'wrn_40_2 → wrn_16_2']);
    expect(c100.stats[0]!.method).toBe('crd');
  });

  it('says n/a with a single seed', () => {
    const c10 = boards.find((b) => b.id === 'cifar10-quick')!;
    const v = c10.stats.find((s) => s.method === 'vanilla')!;
    expect(v.ci).toBeNull();
    expect(v.vsKd!.n).toBe(1);
    expect(v.vsKd!.p).toBeNull();
  });

  it('matches published rows by method and model ids and computes Kendall tau-b per table and pair', () => {
    const cmp = compare(c100, published);
    const kd = cmp.find((c) => c.stats.method === 'kd' && c.stats.student === 'wrn_16_2')!;
    expect(kd.published!.table).toBe('crd');
    expect(kd.published!.distilledAcc).toBe(74.92);
    expect(kd.via).toBeNull();
    expect(cmp.filter((c) => c.stats.method === 'rkd').map((c) => c.published?.table)).toEqual(['crd']);
    const agr = agreements(cmp, published);
    const wrn = agr.find((a) => a.table === 'crd' && a.pair === 'wrn_40_2 → wrn_16_2')!;
    // published order vanilla<rkd<fitnet<at<kd<crd, measured vanilla<fitnet<rkd<kd<at<crd: 13 concordant, 2 discordant
    expect(wrn.n).toBe(6);
    expect(wrn.tau).toBeCloseTo(11 / 15, 12);
    expect([wrn.concordant, wrn.discordant]).toEqual([13, 2]);
    expect(wrn.tauInterval).not.toBeNull();
    expect(agr.map((a) => `${a.table} ${a.pair} ${a.n}`)).toEqual(['crd wrn_40_2 → wrn_16_2 6', 'crd resnet56 → resnet20 4']);
  });
});

describe('charts', () => {
  it('draws only the charts that have something to show', async () => {
    // CIFAR-10: vanilla and kd of one student, one seed each, one night: no family comparison, one MACs value, no trend
    const [c10] = buildLeaderboards(testRows(), TEST_METHODS);
    expect((await renderCharts(c10!)).map((c) => c.id)).toEqual(['accuracy', 'train-time']);
    const one = buildLeaderboards(testRows().filter((r) => r.dataset === 'cifar10' && r.method === 'kd'), TEST_METHODS);
    expect(await renderCharts(one[0]!)).toEqual([]);
  });

  it('renders five SVG charts with marks', async () => {
    const [, c100] = buildLeaderboards(testRows(), TEST_METHODS);
    const charts = await renderCharts(c100!);
    expect(charts.map((c) => c.id)).toEqual(['accuracy', 'gain-family', 'accuracy-macs', 'train-time', 'trend']);
    const marks: Record<string, string[]> = {
      accuracy: ['mark-symbol', 'mark-rule'], 'gain-family': ['mark-rect', 'mark-symbol'], 'accuracy-macs': ['mark-symbol', 'mark-text'],
      'train-time': ['mark-rect'], trend: ['mark-line', 'mark-symbol'],
    };
    for (const c of charts) {
      expect(c.svg.startsWith('<svg')).toBe(true);
      for (const m of marks[c.id]!) {
        const group = new RegExp(`<g class="mark-${m.slice(5)} role-mark[^"]*"[^>]*>(.*?)</g>`).exec(c.svg);
        expect(group, `${c.id} has ${m}`).not.toBeNull();
        expect(group![1]).toMatch(/<(path|line|text)/);
      }
    }
  });
});

describe('site', () => {
  it('writes the expected files, states the protocol on every page and exports the rows', async () => {
    const out = tmp();
    const beside = tmp();
    const rows = testRows();
    const res = await buildSite({ rows, methods: TEST_METHODS, published, outDir: out, exportDir: beside });
    const methodPages = TEST_METHODS.map((m) => `method-${m.id}.html`);
    expect(res.files.sort()).toEqual(['cifar10-quick.html', 'cifar100-quick.html', 'index.html', 'leaderboards.json', ...methodPages, 'published.html', 'results.csv', 'results.json', 'survey.html'].sort());
    for (const f of ['index.html', 'cifar10-quick.html', 'cifar100-quick.html', 'published.html', 'survey.html']) {
      const html = readFileSync(join(out, f), 'utf8');
      expect(html, f).toContain('class="protocol-label"');
      expect(html, f).toContain('TEST DATA (fabricated for report tests, not measured)');
      expect(html, f).toContain('Not the paper protocol');
      expect(html, f).not.toMatch(/<(script|link)[^>]+(src|href)="https?:/);
      const ids = [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
      expect(new Set(ids).size, `${f}: unique ids`).toBe(ids.length);
    }
    const lb = readFileSync(join(out, 'cifar100-quick.html'), 'utf8');
    expect(lb).toContain('id="method-dkd--wrn-40-2--wrn-16-2"');
    expect(lb).toContain('id="published-vs-measured"');
    expect(lb).toMatch(/<td class="num" data-v="0\.866666[0-9]*" title="paired over seeds 0, 1, 2; paired t=9\.827, df=2, p=0\.010 before correction">\+0\.87<span class="seeds">n=3, p<sub>Holm<\/sub>=0\.0\d\d<\/span><\/td>/);
    // the gain over vanilla with its interval: dkd - vanilla per seed 3.0, 2.4, 2.7: mean 2.7, sd 0.3, half-width 4.302653 x 0.3 / sqrt 3 = 0.745241
    const dkdRow = lb.slice(lb.indexOf('<tr id="method-dkd--wrn-40-2--wrn-16-2"'), lb.indexOf('</tr>', lb.indexOf('<tr id="method-dkd--wrn-40-2--wrn-16-2"')));
    expect(dkdRow).toContain('+2.70<div class="small muted gain-ci">[+1.95, +3.45]</div>');
    expect(lb).toContain('id="agreement"');
    expect(lb).toContain('id="provenance-sets"');
    expect(lb).toContain('id="provenance-warning"'); // three nightly commits on one board
    expect((lb.match(/<svg/g) ?? []).length).toBe(5);
    const c10 = readFileSync(join(out, 'cifar10-quick.html'), 'utf8');
    expect(c10).toContain('one seed');
    expect(c10).toContain('<span class="nmark"');
    expect(c10).not.toContain('95% Student-t interval of the mean over');
    const pub = readFileSync(join(out, 'published.html'), 'utf8');
    expect((pub.match(/class="gain-mismatch"/g) ?? []).length).toBe(3);
    expect(pub).toContain('href="cifar100-quick.html#method-kd--wrn-40-2--wrn-16-2"');
    for (const dir of [out, beside]) {
      const csv = parseCsv(readFileSync(join(dir, 'results.csv'), 'utf8'));
      expect(csv).toHaveLength(rows.length);
      expect(csv[0]!.details).toBe(rows[0]!.details);
      expect(JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'))).toEqual(rows);
    }
  });

  it('writes an index saying there are no results when there are none', async () => {
    const out = tmp();
    const res = await buildSite({ rows: [], published, outDir: out });
    expect(res.leaderboards).toHaveLength(0);
    expect(readFileSync(join(out, 'index.html'), 'utf8')).toContain('No results yet');
    expect(existsSync(join(out, 'published.html'))).toBe(true);
  });
});
