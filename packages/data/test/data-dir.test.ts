/** resolveDataDir: flag, then KDBENCH_DATA_DIR, then the cache folder. */
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveDataDir } from '../src/index.js';

describe('resolveDataDir', () => {
  it('prefers the flag', () => {
    expect(resolveDataDir('/x/flag', { KDBENCH_DATA_DIR: '/x/env' })).toBe('/x/flag');
  });
  it('resolves a relative flag against the cwd', () => {
    expect(resolveDataDir('rel/dir', {})).toBe(path.resolve('rel/dir'));
  });
  it('falls back to KDBENCH_DATA_DIR', () => {
    expect(resolveDataDir(undefined, { KDBENCH_DATA_DIR: '/x/env', XDG_CACHE_HOME: '/x/cache' })).toBe('/x/env');
  });
  it('then XDG_CACHE_HOME/kdbench/datasets', () => {
    expect(resolveDataDir(undefined, { XDG_CACHE_HOME: '/x/cache' })).toBe('/x/cache/kdbench/datasets');
  });
  it('then ~/.cache/kdbench/datasets', () => {
    expect(resolveDataDir(undefined, {})).toBe(path.join(os.homedir(), '.cache', 'kdbench', 'datasets'));
  });
  it('treats an empty flag as unset', () => {
    expect(resolveDataDir('', { KDBENCH_DATA_DIR: '/x/env' })).toBe('/x/env');
  });
});
