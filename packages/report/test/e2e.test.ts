/// <reference lib="dom" />
/**
 * End to end in a real browser: the generated site opened from file:// in headless Chromium
 * (playwright-core driving /usr/bin/chromium; CI installs it in .ci/run) at 1400 px. Rows are the
 * fabricated test rows of fixtures.ts. Saves reports/leaderboard-e2e.png.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { buildSite, FAMILY_COLORS, loadPublished } from '../src/index.js';
import { TEST_METHODS, testRows } from './fixtures.js';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../reports/leaderboard-e2e.png');
const WIDTH = 1400;
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`report e2e skipped: ${CHROMIUM} is absent (apt-get install -y chromium; CI installs it)`);

describe.skipIf(!hasChromium)('leaderboard in headless Chromium (e2e)', () => {
  let dir: string;
  let browser: Browser;
  let page: Page;
  const open = (file: string) => page.goto(pathToFileURL(join(dir, file)).href);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kdbench-report-e2e-'));
    await buildSite({ rows: testRows(), methods: TEST_METHODS, published: loadPublished(), outDir: dir, generatedAt: 'test run' });
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: WIDTH, height: 1000 } });
    await open('cifar100-quick.html');
  });

  afterAll(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const ranked = '#leaderboard tbody:last-of-type tr:not([hidden])';
  const methods = () => page.$$eval(`${ranked} td:nth-child(2)`, (tds) => tds.map((td) => td.textContent!.trim()));
  const column = (i: number) => page.$$eval(`${ranked} td:nth-child(${i})`, (tds) => tds.map((td) => td.getAttribute('data-v')));

  it('states the protocol at the top', async () => {
    const label = await page.textContent('.protocol .protocol-label');
    expect(label).toContain('TEST DATA');
    expect(await page.isVisible('.protocol .warn')).toBe(true);
  });

  it('shows the agreement with the published table above the leaderboard: tau-b, its interval and the two orderings', async () => {
    const box = page.locator('#agreement .entry[data-table="crd"][data-pair="wrn_40_2 → wrn_16_2"]');
    expect(await box.isVisible()).toBe(true);
    // published order vanilla<rkd<fitnet<at<kd<crd, measured vanilla<fitnet<rkd<kd<at<crd: 13 concordant, 2 discordant of 15
    expect(await box.locator('.tau').textContent()).toBe('0.73');
    expect(await box.locator('.tau-interval').textContent()).toMatch(/^\[-?\d\.\d\d, \d\.\d\d\]$/);
    expect(await box.locator('.published li').evaluateAll((li) => li.map((x) => x.getAttribute('data-method')))).toEqual(['crd', 'kd', 'at', 'fitnet', 'rkd', 'vanilla']);
    expect(await box.locator('.measured li').evaluateAll((li) => li.map((x) => x.getAttribute('data-method')))).toEqual(['crd', 'at', 'kd', 'rkd', 'fitnet', 'vanilla']);
    const [boxY, tableY] = await Promise.all([page.locator('#agreement').boundingBox(), page.locator('#leaderboard').boundingBox()]);
    expect(boxY!.y).toBeLessThan(tableY!.y);
  });

  it('sorts by a column', async () => {
    // header 8: gain vs vanilla; 9: vs KD, sorted by the difference
    await page.click('#leaderboard thead th:nth-child(8)');
    expect(await page.getAttribute('#leaderboard thead th:nth-child(8)', 'aria-sort')).toBe('descending');
    const gains = (await column(8)).map(Number);
    expect(gains).toEqual([...gains].sort((a, b) => b - a));
    await page.click('#leaderboard thead th:nth-child(8)');
    const up = (await column(8)).map(Number);
    expect(up).toEqual([...up].sort((a, b) => a - b));
    await page.click('#leaderboard thead th:nth-child(9)');
    const diffs = (await column(9)).filter((v) => v !== '').map(Number);
    expect(diffs.length).toBeGreaterThan(3);
    expect(diffs).toEqual([...diffs].sort((a, b) => b - a));
    await page.click('#leaderboard thead th:nth-child(2)');
    const names = await methods();
    expect(names).toEqual([...names].sort((a, b) => a.localeCompare(b)));
  });

  it('filters a family and a pair, keeping the reference rows', async () => {
    await page.selectOption('.filters select[data-col="family"]', 'relation');
    expect(new Set(await methods())).toEqual(new Set(['crd', 'rkd']));
    expect(await page.textContent('.filters .count')).toBe('3 of 9 rows');
    await page.selectOption('.filters select[data-col="family"]', '');
    await page.selectOption('.filters select[data-col="pair"]', 'resnet56 → resnet20');
    expect((await methods()).sort()).toEqual(['crd', 'fitnet', 'kd']);
    expect(await page.locator('#leaderboard tbody.refs tr').count()).toBe(4); // two teachers, two vanilla students
    await page.selectOption('.filters select[data-col="pair"]', '');
    expect(await methods()).toHaveLength(9);
    // provenance: kd's two earlier nightly runs come from commits of their own (P2, P3); the board warns that it mixes commits
    await page.selectOption('.filters select[data-col="provenance"]', 'p2');
    expect(await methods()).toEqual(['kd']);
    await page.selectOption('.filters select[data-col="provenance"]', '');
    expect(await page.textContent('#provenance-warning')).toContain('3 commits');
  });

  it('shows published beside measured numbers', async () => {
    const kdRow = page.locator('#published-vs-measured tbody tr', { hasText: 'wrn_40_2 → wrn_16_2' }).filter({ has: page.locator('td:first-child', { hasText: /^kd$/ }) });
    const cells = await kdRow.locator('td').allTextContents();
    expect(cells[2]).toContain('CRD benchmark');
    expect(cells.slice(3, 9)).toEqual(['75.61', '66.50', '73.26', '60.17', '74.92', '61.60']);
    expect(cells[9]).toBe('+1.66');
  });

  it('has charts with marks', async () => {
    for (const id of ['accuracy', 'gain-family', 'accuracy-macs', 'train-time', 'trend']) {
      const marks = await page.locator(`#chart-${id} svg g.role-mark path, #chart-${id} svg g.role-mark line`).count();
      expect(marks, id).toBeGreaterThan(0);
    }
    const box = await page.locator('#chart-accuracy svg').boundingBox();
    expect(box!.width).toBeGreaterThan(300);
  });

  it('cuts no table column and no chart at 1400 px, on any page', async () => {
    const pages = readdirSync(dir).filter((f) => f.endsWith('.html'));
    expect(pages.length).toBeGreaterThan(5);
    for (const f of pages) {
      await open(f);
      const cut = await page.evaluate(() => {
        const width = document.documentElement.clientWidth;
        const out: string[] = [];
        if (document.documentElement.scrollWidth > width) out.push(`page scrolls sideways (${document.documentElement.scrollWidth} px)`);
        document.querySelectorAll('th, figure.chart svg').forEach((el) => {
          const r = el.getBoundingClientRect();
          // a cell or chart beyond the window or beyond a scrolling container's visible box is cut
          let box = { left: 0, right: width };
          for (let p = el.parentElement; p; p = p.parentElement) {
            const s = getComputedStyle(p);
            if (s.overflowX === 'auto' || s.overflowX === 'hidden' || s.overflowX === 'scroll') {
              const pr = p.getBoundingClientRect();
              box = { left: Math.max(box.left, pr.left), right: Math.min(box.right, pr.right) };
            }
          }
          if (r.right > box.right + 0.5 || r.left < box.left - 0.5) out.push(`${el.tagName.toLowerCase()} "${(el.textContent ?? '').trim().slice(0, 30)}" at ${Math.round(r.left)}-${Math.round(r.right)}`);
        });
        return out;
      });
      expect(cut, f).toEqual([]);
    }
  });

  it('gives a family one colour on every page: table chips, chart marks and legends', async () => {
    const seen = new Map<string, Set<string>>();
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.html'))) {
      await open(f);
      const pairs = await page.evaluate(() => {
        const out: [string, string][] = [];
        document.querySelectorAll('.fam[data-family]').forEach((el) => out.push([el.getAttribute('data-family')!, getComputedStyle(el, '::before').backgroundColor]));
        const colorOf = (el: Element) => {
          const fill = el.getAttribute('fill');
          return fill && fill !== 'none' && fill !== 'transparent' ? fill : el.getAttribute('stroke') ?? '';
        };
        document.querySelectorAll('svg [aria-label*="family: "]').forEach((el) => {
          const m = /family: ([^;]+)/.exec(el.getAttribute('aria-label')!);
          if (m && el.tagName === 'path') out.push([m[1]!.trim(), colorOf(el)]);
        });
        document.querySelectorAll('svg g.role-legend[aria-label^="Symbol legend titled \'family\'"] g.role-legend-symbol').forEach((sym) => {
          const label = sym.parentElement!.querySelector('.role-legend-label text');
          const path = sym.querySelector('path');
          if (label && path) out.push([label.textContent!.trim(), colorOf(path)]);
        });
        return out;
      });
      for (const [family, color] of pairs) seen.set(family, (seen.get(family) ?? new Set()).add(normalize(color)));
    }
    expect(seen.size).toBeGreaterThanOrEqual(5);
    for (const [family, colors] of seen) {
      expect([...colors], family).toEqual([normalize(FAMILY_COLORS[family]!)]);
    }
  });

  it('saves a screenshot', async () => {
    await open('cifar100-quick.html');
    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);
  });
});

/** `#4e79a7` and `rgb(78, 121, 167)` to one form. */
function normalize(color: string): string {
  const rgb = /^rgba?\((\d+),\s*(\d+),\s*(\d+)/.exec(color);
  if (rgb) return `#${rgb.slice(1, 4).map((x) => Number(x).toString(16).padStart(2, '0')).join('')}`;
  return color.toLowerCase();
}
