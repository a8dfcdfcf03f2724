/**
 * Where datasets live: the --data-dir flag, else $KDBENCH_DATA_DIR, else a per-user cache
 * folder ($XDG_CACHE_HOME/kdbench/datasets or ~/.cache/kdbench/datasets).
 */
import os from 'node:os';
import path from 'node:path';

export function resolveDataDir(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return path.resolve(flag);
  const fromEnv = env['KDBENCH_DATA_DIR'];
  if (fromEnv) return path.resolve(fromEnv);
  const xdg = env['XDG_CACHE_HOME'];
  const cacheRoot = xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.cache');
  return path.join(cacheRoot, 'kdbench', 'datasets');
}
