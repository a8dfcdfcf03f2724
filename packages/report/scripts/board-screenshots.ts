/// <reference lib="dom" />
/**
 * Screenshots of every leaderboard of a built site, as a reader sees it at 1400 px: from the top of
 * the page to the end of the leaderboard table (banner, provenance warning, agreement box, table).
 * Writes <out>/board-<board id>.png, and <out>/survey.png of the survey page (whole). Needs Chromium
 * at /usr/bin/chromium.
 *
 *   npx tsx packages/report/scripts/board-screenshots.ts reports/site reports
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const [site, out] = process.argv.slice(2);
if (!site || !out) {
  console.error('usage: board-screenshots.ts SITE_DIR OUT_DIR');
  process.exit(2);
}
const index = join(site, 'leaderboards.json');
if (!existsSync(index)) {
  console.error(`${index}: no leaderboards.json (build the site with kdbench report first)`);
  process.exit(2);
}
const boards = (JSON.parse(readFileSync(index, 'utf8')) as { id: string }[]).map((b) => b.id);
mkdirSync(out, { recursive: true });
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  for (const id of boards) {
    await page.goto(pathToFileURL(resolve(site, `${id}.html`)).href);
    const bottom = await page.evaluate(() => {
      const note = document.querySelector('#leaderboard')!.closest('.scroll')!.nextElementSibling ?? document.querySelector('#leaderboard')!;
      return Math.ceil(note.getBoundingClientRect().bottom + window.scrollY + 12);
    });
    const file = join(out, `board-${id}.png`);
    await page.screenshot({ path: file, fullPage: true, clip: { x: 0, y: 0, width: 1400, height: bottom } });
    console.log(`${file} (1400 x ${bottom})`);
  }
  if (existsSync(join(site, 'survey.html'))) {
    await page.goto(pathToFileURL(resolve(site, 'survey.html')).href);
    const file = join(out, 'survey.png');
    await page.screenshot({ path: file, fullPage: true });
    console.log(file);
  }
} finally {
  await browser.close();
}
