/**
 * End to end in a real browser: the generated leaderboard opened from file:// in headless
 * Chromium (playwright-core driving /usr/bin/chromium; CI installs it in .ci/run). Rows are the
 * fabricated test rows of fixtures.ts. Saves reports/leaderboard-e2e.png.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { buildSite, loadPublished } from '../src/index.js';
import { TEST_METHODS, testRows } from './fixtures.js';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../reports/leaderboard-e2e.png');
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`report e2e skipped: ${CHROMIUM} is absent (apt-get install -y chromium; CI installs it)`);

describe.skipIf(!hasChromium)('leaderboard in headless Chromium (e2e)', () => {
  let dir: string;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kdbench-report-e2e-'));
    await buildSite({ rows: testRows(), methods: TEST_METHODS, published: loadPublished(), outDir: dir, generatedAt: 'test run' });
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    await page.goto(pathToFileURL(join(dir, 'cifar100-quick.html')).href);
  });

  afterAll(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const methods = () => page.$$eval('#leaderboard tbody tr:not([hidden]) td:nth-child(2)', (tds) => tds.map((td) => td.textContent!.trim()));
  const column = (i: number) => page.$$eval(`#leaderboard tbody tr:not([hidden]) td:nth-child(${i})`, (tds) => tds.map((td) => td.getAttribute('data-v')));

  it('states the protocol at the top', async () => {
    const label = await page.textContent('.protocol .protocol-label');
    expect(label).toContain('TEST DATA');
    expect(await page.isVisible('.protocol .warn')).toBe(true);
  });

  it('sorts by a column', async () => {
    // header 12: teacher top-1; 10: gain vs vanilla
    await page.click('#leaderboard thead th:nth-child(10)');
    expect(await page.getAttribute('#leaderboard thead th:nth-child(10)', 'aria-sort')).toBe('descending');
    const gains = (await column(10)).map(Number);
    expect(gains).toEqual([...gains].sort((a, b) => b - a));
    await page.click('#leaderboard thead th:nth-child(10)');
    const up = (await column(10)).map(Number);
    expect(up).toEqual([...up].sort((a, b) => a - b));
    await page.click('#leaderboard thead th:nth-child(2)');
    const names = await methods();
    expect(names).toEqual([...names].sort((a, b) => a.localeCompare(b)));
  });

  it('filters a family', async () => {
    await page.selectOption('.filters select[data-col="family"]', 'relation');
    expect(new Set(await methods())).toEqual(new Set(['crd', 'rkd']));
    expect(await page.textContent('.filters .count')).toBe('3 of 11 rows');
    await page.selectOption('.filters select[data-col="family"]', '');
    await page.selectOption('.filters select[data-col="pair"]', 'resnet56 → resnet20');
    // the vanilla resnet20 belongs to its student's pairs
    expect((await methods()).sort()).toEqual(['crd', 'fitnet', 'kd', 'vanilla']);
    await page.selectOption('.filters select[data-col="pair"]', '');
    expect(await methods()).toHaveLength(11);
  });

  it('shows published beside measured numbers and the rank agreement', async () => {
    const kdRow = page.locator('#published-vs-measured tbody tr', { hasText: 'wrn_40_2 → wrn_16_2' }).filter({ has: page.locator('td:first-child', { hasText: /^kd$/ }) });
    const cells = await kdRow.locator('td').allTextContents();
    expect(cells[2]).toContain('CRD benchmark');
    expect(cells.slice(3, 9)).toEqual(['75.61', '66.50', '73.26', '60.17', '74.92', '61.60']);
    expect(cells[9]).toBe('+1.66');
    const tau = await page.locator('#rank-agreement tr', { hasText: 'wrn_40_2 → wrn_16_2' }).first().locator('td.tau').textContent();
    expect(tau).toBe('0.733');
  });

  it('has charts with marks', async () => {
    for (const id of ['accuracy', 'gain-family', 'accuracy-macs', 'train-time', 'trend']) {
      const marks = await page.locator(`#chart-${id} svg g.role-mark path, #chart-${id} svg g.role-mark line`).count();
      expect(marks, id).toBeGreaterThan(0);
    }
    const box = await page.locator('#chart-accuracy svg').boundingBox();
    expect(box!.width).toBeGreaterThan(300);
  });

  it('saves a screenshot', async () => {
    await page.reload();
    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);
  });
});
