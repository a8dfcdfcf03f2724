/** Method pages of the report site, built from fabricated rows (fixtures.ts) and method metadata. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildSite, learningCurve, loadPublished, methodPageFile, type MethodMeta } from '../src/index.js';
import { TEST_METHODS, testRows } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'kdbench-method-pages-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// kd as the registry describes it (packages/response/src/kd.ts)
const KD: MethodMeta = {
  id: 'kd', title: 'Knowledge distillation (soft targets)', family: 'response', knowledge: 'response', scheme: 'offline', teacher: 'required',
  paper: { authors: 'G. Hinton, O. Vinyals, J. Dean', title: 'Distilling the Knowledge in a Neural Network', venue: 'NIPS Deep Learning Workshop', year: 2015, url: 'https://arxiv.org/abs/1503.02531' },
  defaults: { T: 4, gamma: 0.1, alpha: 0.9 },
  hyperDocs: { T: 'softmax temperature of teacher and student', gamma: 'weight of the cross-entropy with labels', alpha: 'weight of the T^2-scaled KL term' },
  deviations: '',
};
const NEW: MethodMeta = {
  id: 'newkd', title: 'A method with no runs yet', family: 'response', knowledge: 'response', scheme: 'online', teacher: 'none',
  paper: { authors: 'A. Author', title: 'T', venue: 'V', year: 2024, url: 'https://example.org/newkd' },
  defaults: { beta: 2 }, hyperDocs: { beta: 'weight of the distillation term' }, deviations: 'uses one peer instead of two',
};

describe('method pages', async () => {
  const methods = [...TEST_METHODS.filter((m) => m.id !== 'kd'), KD, NEW];
  const site = await buildSite({ rows: testRows(), methods, published: loadPublished(), outDir: dir, generatedAt: '2026-11-27 00:00 UTC' });
  const html = (f: string) => readFileSync(join(dir, f), 'utf8');

  it('writes one page per registered method', () => {
    for (const m of methods) expect(site.files).toContain(methodPageFile(m.id));
    expect(methodPageFile('kd')).toBe('method-kd.html');
  });

  it('shows what kd transfers, its paper link, hyperparameters with defaults and docs, deviations', () => {
    const kd = html('method-kd.html');
    expect(kd).toContain('<a class="paper-link" href="https://arxiv.org/abs/1503.02531">');
    expect(kd).toContain('NIPS Deep Learning Workshop 2015');
    expect(kd).toMatch(/<dl class="method-meta">\s*<dt>family<\/dt><dd class="family"><span class="fam" data-family="response" data-color="#4e79a7"[^>]*>response<\/span><\/dd>[\s\S]*<dd class="knowledge">response<\/dd>[\s\S]*<dd class="scheme">offline<\/dd>/);
    expect(kd).toMatch(/<tr data-hp="T"><td><code>T<\/code><\/td><td class="num">4<\/td><td>softmax temperature of teacher and student<\/td><\/tr>/);
    expect(kd).toMatch(/<tr data-hp="gamma">.*0\.1.*weight of the cross-entropy with labels/);
    expect(kd).toContain('None: the implementation follows the paper.');
    expect(kd).toContain('--hp T=4,gamma=0.1,alpha=0.9');
  });

  it('lists its results on every leaderboard with the published numbers beside them, and its trend', () => {
    const kd = html('method-kd.html');
    const results = kd.slice(kd.indexOf('id="method-results"'), kd.indexOf('</table>', kd.indexOf('id="method-results"')));
    expect(results).toContain('href="cifar100-quick.html#method-kd--wrn-40-2--wrn-16-2"');
    expect(results).toContain('href="cifar10-quick.html#');
    // kd on wrn_40_2 -> wrn_16_2 is in the CRD table: a published distilled accuracy beside the measured mean
    const row = results.split('<tr').find((r) => r.includes('wrn_40_2 → wrn_16_2'))!;
    expect(row).toMatch(/<td class="num">\d+\.\d\d<\/td><td class="num">[+−]\d+\.\d\d<\/td><td class="small">(?!<span)/);
    expect(kd).toContain('id="method-published"');
    // trend: the three nightly runs of kd on that pair
    const trend = kd.slice(kd.indexOf('id="method-trend"'));
    for (const run of ['2026-11-25 aaaaaaa', '2026-11-26 bbbbbbb', '2026-11-27 ccccccc']) expect(trend).toContain(run);
  });

  it('says when a method has no runs, and shows its deviations', () => {
    const p = html('method-newkd.html');
    expect(p).toContain('No measured results yet');
    expect(p).toContain('uses one peer instead of two');
    expect(p).toContain('none (trains without a teacher)');
    expect(p).toContain('href="https://example.org/newkd"');
  });

  it('is linked from the leaderboards and the index, which marks the methods without results', () => {
    const board = html('cifar100-quick.html');
    expect(board).toContain('<a class="method-page" href="method-kd.html"');
    expect(board).toContain('href="method-dkd.html"');
    const index = html('index.html');
    expect(index).toContain('<a href="method-newkd.html" class="no-results"');
    expect(index).toContain('<a href="method-kd.html" title=');
    expect(index).toContain('1 of 8 methods have no results');
  });

  it('draws learning curves from the stored per-epoch history: the student, other networks of the run, the teacher', async () => {
    // FABRICATED history: a two-stage run (a self-teacher stage, then the student), two seeds
    const history = (shift: number) => [1, 2, 3].flatMap((e) => [
      { stage: 'selfteacher', epoch: e, eval: { top1: 30 + 5 * e + shift } }, { stage: 'main', epoch: e, eval: { top1: 20 + 10 * e + shift } },
    ]);
    const rows = testRows().filter((r) => r.dataset === 'cifar10' && r.method === 'kd')
      .flatMap((r) => [0, 2].map((shift, seed) => ({ ...r, run_id: `${r.run_id}-${seed}`, seed, details: JSON.stringify({ history: history(shift) }) })));
    expect(learningCurve(rows)).toEqual([
      { network: 'selfteacher', epoch: 1, top1: 36, n: 2 }, { network: 'selfteacher', epoch: 2, top1: 41, n: 2 }, { network: 'selfteacher', epoch: 3, top1: 46, n: 2 },
      { network: 'student', epoch: 1, top1: 31, n: 2 }, { network: 'student', epoch: 2, top1: 41, n: 2 }, { network: 'student', epoch: 3, top1: 51, n: 2 },
    ]);
    const out = mkdtempSync(join(tmpdir(), 'kdbench-curves-'));
    try {
      await buildSite({ rows, methods: [KD], outDir: out, generatedAt: 'test' });
      const p = readFileSync(join(out, 'method-kd.html'), 'utf8');
      const fig = p.slice(p.indexOf('<figure class="chart learning-curve"'), p.indexOf('</figure>', p.indexOf('learning-curve')));
      expect(fig).toContain('mean over 2 seeds: the student and the networks the run trains in stages of their own (selfteacher)');
      expect(fig).toContain("dashed: the stored teacher resnet56's final accuracy");
      expect(fig).toContain('stroke="#4e79a7"'); // the student in kd's family colour
      expect((fig.match(/aria-roledescription="line mark"/g) ?? []).length).toBe(2);
      expect(html('method-newkd.html')).toContain('No per-epoch history');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
