// Starts a kdbench entry (the CLI or the suite worker): the built JavaScript in dist/ when
// dist/build.json matches the sources it was built from, else the TypeScript sources through tsx
// (development: an edited source is never shadowed by a stale build). KDBENCH_FROM_SOURCE=1 forces
// the sources. The build is made at `npm ci` and by `npx nx run @kdbench/harness:build` (scripts/build.mjs).
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ENTRIES = {
  kdbench: { built: '../dist/kdbench.js', source: '../src/cli/entry.ts' },
  'kdbench-worker': { built: '../dist/kdbench-worker.js', source: '../src/suite/worker.ts' },
};

/**
 * Whether every source listed in a build manifest is unchanged: same size and either the same
 * modification time or, when only the time differs (a checkout, a copy), the same content hash.
 */
export function buildIsCurrent(manifestFile) {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
  } catch {
    return false;
  }
  for (const [rel, want] of Object.entries(manifest.sources ?? {})) {
    const file = join(dirname(manifestFile), rel);
    let stat;
    try {
      stat = statSync(file);
    } catch {
      return false;
    }
    if (stat.size !== want.size) return false;
    if (stat.mtimeMs === want.mtimeMs) continue;
    if (createHash('sha256').update(readFileSync(file)).digest('hex') !== want.sha256) return false;
  }
  return Object.keys(manifest.sources ?? {}).length > 0;
}

export async function launch(name) {
  const entry = ENTRIES[name];
  const manifest = fileURLToPath(new URL('../dist/build.json', import.meta.url));
  if (process.env.KDBENCH_FROM_SOURCE !== '1' && buildIsCurrent(manifest)) {
    await import(new URL(entry.built, import.meta.url).href);
    return;
  }
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL(entry.source, import.meta.url).href);
}
