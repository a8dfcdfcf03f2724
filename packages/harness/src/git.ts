/** The commit the code runs from ('unknown' outside a git checkout), recorded with every result. */
import { execFileSync } from 'node:child_process';

let cached: string | undefined;

export function gitCommit(): string {
  if (cached === undefined) {
    try {
      const sha = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
      const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
      cached = dirty ? `${sha}+dirty` : sha;
    } catch {
      cached = 'unknown';
    }
  }
  return cached;
}
