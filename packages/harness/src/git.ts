/**
 * The commit the code runs from ('unknown' outside a git checkout), recorded with every result.
 * Read once per process and kept: a process runs the code it loaded, so a checkout that changes
 * while it runs (a suite worker lives for hours) must not change what its rows record. Processes
 * that train call `pinGitState` when they start.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';

let cached: string | undefined;
let cachedDiff: string | null | undefined;

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

/**
 * A short hash (sha256, 12 hex digits) of the uncommitted changes to tracked files (`git diff HEAD`),
 * so two runs from a dirty checkout of the same commit can be told apart; null when the checkout is
 * clean or not a git checkout.
 */
export function gitDiffHash(): string | null {
  if (cachedDiff === undefined) {
    try {
      const diff = execFileSync('git', ['diff', 'HEAD', '--no-color', '--no-ext-diff'], { stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 256 * 1024 * 1024 });
      cachedDiff = diff.length ? createHash('sha256').update(diff).digest('hex').slice(0, 12) : null;
    } catch {
      cachedDiff = null;
    }
  }
  return cachedDiff;
}

/** Reads the commit and the hash of uncommitted changes now, so later rows record the code this process loaded. */
export function pinGitState(): void {
  gitCommit();
  gitDiffHash();
}
