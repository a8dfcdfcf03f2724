/**
 * A process records the commit of the code it loaded: once pinned, a checkout that moves to
 * another commit or gains uncommitted changes does not change what later rows record.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { gitCommit, gitDiffHash, pinGitState } from '../src/git.js';

const repo = mkdtempSync(join(tmpdir(), 'kdb-git-pin-'));
const saved = { dir: process.env.GIT_DIR, tree: process.env.GIT_WORK_TREE };
const git = (...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', '-c', 'commit.gpgsign=false', ...args], { cwd: repo, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();

afterAll(() => {
  process.env.GIT_DIR = saved.dir;
  process.env.GIT_WORK_TREE = saved.tree;
  if (saved.dir === undefined) delete process.env.GIT_DIR;
  if (saved.tree === undefined) delete process.env.GIT_WORK_TREE;
  rmSync(repo, { recursive: true, force: true });
});

it('keeps the commit and the clean state read when the process pinned them', () => {
  git('init', '-q');
  writeFileSync(join(repo, 'a.txt'), 'one\n');
  git('add', 'a.txt');
  git('commit', '-q', '-m', 'first');
  const first = git('rev-parse', '--short=12', 'HEAD');
  process.env.GIT_DIR = join(repo, '.git');
  process.env.GIT_WORK_TREE = repo;

  pinGitState();
  writeFileSync(join(repo, 'a.txt'), 'two\n');
  git('commit', '-q', '-am', 'second');
  writeFileSync(join(repo, 'a.txt'), 'three\n'); // and uncommitted changes on top

  expect(git('rev-parse', '--short=12', 'HEAD')).not.toBe(first);
  expect(gitCommit()).toBe(first);
  expect(gitDiffHash()).toBeNull();
});
