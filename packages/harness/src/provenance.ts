/**
 * Where a result came from, stored in each row's `details.provenance` (a JSON field, so results
 * files written before it still load; the report derives it for those rows from `git_commit` and
 * `backend`): the commit, whether the checkout had uncommitted changes and a hash of them, the
 * TensorFlow.js backend and the kernel set it ran with.
 */
import { kernelSetName } from '@kdbench/engine';
import { gitCommit, gitDiffHash } from './git.js';

export interface RunProvenance {
  /** 12 hex digits, or 'unknown' outside a git checkout. */
  commit: string;
  dirty: boolean;
  /** sha256 prefix of `git diff HEAD` when dirty, else null. */
  diff: string | null;
  /** The TensorFlow.js backend ('wasm', 'cpu', 'tensorflow'). */
  backend: string;
  /** The backend's kernels: 'wasm+native' when the native OpenBLAS kernels ran, else the backend. */
  kernels: string;
}

export function runProvenance(backend: string): RunProvenance {
  const [commit, flag] = gitCommit().split('+');
  const dirty = flag === 'dirty';
  return { commit: commit!, dirty, diff: dirty ? gitDiffHash() : null, backend, kernels: kernelSetName(backend) };
}
