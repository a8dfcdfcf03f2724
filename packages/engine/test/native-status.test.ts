/**
 * What kdbench says when the native kernels are missing: the reason build.mjs recorded and the
 * fix, a notice shown once (remembered in the manifest), none when the kernels were disabled on
 * purpose, and a refusal to load an addon built for CPU extensions this machine lacks.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadNativeAddon, nativeNotice } from '../src/native/addon.js';

const dirs: string[] = [];
const env = process.env.KDBENCH_NATIVE;
beforeEach(() => {
  delete process.env.KDBENCH_NATIVE; // these tests are about the files, whatever this run's setting
});
afterEach(() => {
  if (env === undefined) delete process.env.KDBENCH_NATIVE;
  else process.env.KDBENCH_NATIVE = env;
  dirs.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true }));
});

function addonDir(manifest: object | undefined, withAddon = false): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kdnative-'));
  dirs.push(dir);
  if (manifest) fs.writeFileSync(path.join(dir, 'kdnative.json'), JSON.stringify(manifest));
  if (withAddon) fs.writeFileSync(path.join(dir, 'kdnative.node'), 'not really an addon');
  return path.join(dir, 'kdnative.node');
}

describe('native kernel status', () => {
  it('says why the build failed and how to fix it, once', () => {
    const file = addonDir({ built: false, reason: 'OpenBLAS not found: apt-get install -y libopenblas-dev', fix: 'apt-get install -y build-essential libopenblas-dev && node build.mjs' });
    const status = loadNativeAddon(file);
    expect(status.loaded).toBe(false);
    expect(status.detail).toBe('native kernels not built (OpenBLAS not found: apt-get install -y libopenblas-dev); fix: apt-get install -y build-essential libopenblas-dev && node build.mjs');
    const first = nativeNotice(status, file);
    expect(first).toMatch(/^kdbench: native kernels not built .*fix: apt-get install .*about 5x slower/);
    expect(nativeNotice(status, file)).toBeUndefined();
    expect(JSON.parse(fs.readFileSync(file.replace('.node', '.json'), 'utf8')).noticeShown).toBe(true);
  });

  it('says the build script never ran when there is no manifest, and names the build command', () => {
    const file = addonDir(undefined);
    const status = loadNativeAddon(file);
    expect(status.detail).toMatch(/the build script has not run\); fix: apt-get install -y build-essential libopenblas-dev && node .*build\.mjs/);
    expect(nativeNotice(status, file)).toMatch(/not built/);
  });

  it('stays quiet when the kernels were disabled on purpose (at build time or by KDBENCH_NATIVE=0)', () => {
    const file = addonDir({ built: false, disabled: true, reason: 'KDBENCH_NATIVE=0', fix: 'unset KDBENCH_NATIVE' });
    expect(nativeNotice(loadNativeAddon(file), file)).toBeUndefined();
    process.env.KDBENCH_NATIVE = '0';
    const other = addonDir({ built: false, reason: 'OpenBLAS not found', fix: 'apt-get install' });
    const status = loadNativeAddon(other);
    expect(status.detail).toBe('native kernels disabled by KDBENCH_NATIVE=0');
    expect(nativeNotice(status, other)).toBeUndefined();
  });

  it('refuses an addon built for extensions this CPU lacks', () => {
    const file = addonDir({ built: true, extensions: ['avx2', 'no-such-extension'] }, true);
    const status = loadNativeAddon(file);
    expect(status.loaded).toBe(false);
    expect(status.detail).toMatch(/built for no-such-extension, which this CPU lacks; fix: node .*build\.mjs/);
  });

  it('reports an addon that fails to load', () => {
    const file = addonDir({ built: true, extensions: [] }, true);
    expect(loadNativeAddon(file).detail).toMatch(/^native kernels failed to load/);
  });
});
