/**
 * The CLI build (scripts/build.mjs, run at npm ci): it runs, and bin/launch.js uses it only while
 * it matches the sources it was built from.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { describe, expect, it, onTestFinished } from 'vitest';
import { buildIsCurrent } from '../bin/launch.js';

const harness = fileURLToPath(new URL('..', import.meta.url));

describe('the CLI build', () => {
  it('builds a CLI that answers --help and lists the models (its bundled sources still find their files)', () => {
    // inside the checkout, so that the build's imports of third-party packages resolve from node_modules
    const out = mkdtempSync(join(harness, '../../node_modules/.kdb-build-test-'));
    onTestFinished(() => rmSync(out, { recursive: true, force: true }));
    const build = spawnSync(process.execPath, [join(harness, 'scripts/build.mjs'), '--outdir', out], { encoding: 'utf8' });
    expect(build.status, build.stderr).toBe(0);
    expect(build.stdout).toMatch(/^kdbench CLI built: \d+ sources -> /);
    const help = spawnSync(process.execPath, [join(out, 'kdbench.js'), '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^kdbench: knowledge-distillation benchmark/);
    const models = spawnSync(process.execPath, [join(out, 'kdbench.js'), 'models', '--classes', '10'], { encoding: 'utf8' });
    expect(models.status, models.stderr).toBe(0);
    expect(models.stdout).toMatch(/\nresnet8\s+resnet\s+0\.07/);
    expect(buildIsCurrent(join(out, 'build.json'))).toBe(true);
  });

  it('a build is current while every source has its size and content; a touched but unchanged file does not count', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kdb-manifest-'));
    const src = join(dir, 'a.ts');
    writeFileSync(src, 'export const a = 1;\n');
    const entry = (text: string) => ({ size: Buffer.byteLength(text), mtimeMs: 0, sha256: createHash('sha256').update(text).digest('hex') });
    const manifest = join(dir, 'build.json');
    writeFileSync(manifest, JSON.stringify({ sources: { 'a.ts': entry('export const a = 1;\n') } }));
    utimesSync(src, new Date(1000), new Date(1000)); // another time than recorded: the content decides
    expect(buildIsCurrent(manifest)).toBe(true);
    writeFileSync(src, 'export const a = 2;\n'); // same size, other content
    expect(buildIsCurrent(manifest)).toBe(false);
    writeFileSync(src, 'export const a = 10;\n');
    expect(buildIsCurrent(manifest)).toBe(false);
    writeFileSync(manifest, JSON.stringify({ sources: { 'gone.ts': entry('') } }));
    expect(buildIsCurrent(manifest)).toBe(false);
    writeFileSync(manifest, JSON.stringify({ sources: {} }));
    expect(buildIsCurrent(manifest)).toBe(false);
    expect(buildIsCurrent(join(dir, 'missing.json'))).toBe(false);
  });

  it.runIf(process.env.KDBENCH_EXPECT_BUILD === '1')('npm ci built the CLI and it matches the sources (CI)', () => {
    expect(buildIsCurrent(join(harness, 'dist', 'build.json'))).toBe(true);
  });
});
