/**
 * Checks, before any data is loaded or model built, that the folders a command writes to can be
 * created and written, and that the data dir is a folder, so that a bad --results fails in the
 * first second with one line instead of after the data load.
 */
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '@kdbench/core';

/** An output folder or file that cannot be used. */
export class OutputError extends Error {}

const REASONS: Record<string, string> = {
  EACCES: 'permission denied', EPERM: 'operation not permitted', ENOTDIR: 'a part of the path is a file, not a folder',
  EROFS: 'read-only file system', ENOSPC: 'no space left on the device', EDQUOT: 'disk quota exceeded', ENAMETOOLONG: 'the name is too long',
};

/** Creates `dir` if needed and writes (then removes) a probe file in it; throws OutputError naming `what` otherwise. */
export function checkWritableDir(dir: string, what: string): void {
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new OutputError(`${dir} is a file, not a folder (the ${what})`);
  const probe = join(dir, `.kdbench-write-check-${process.pid}`);
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(probe, '');
    rmSync(probe);
  } catch (e) {
    const { code = '', path = dir, syscall } = e as NodeJS.ErrnoException;
    throw new OutputError(`cannot ${syscall === 'mkdir' ? `create ${path}` : `write in ${dir}`}: ${REASONS[code] ?? code} (the ${what})`);
  }
}

/** The data dir must be a folder when it exists (a missing one is reported by the data loader with what it expected). */
export function checkDataDir(dir: string): void {
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new ConfigError(`data dir ${dir} is a file, not a folder (--data-dir or $KDBENCH_DATA_DIR)`);
}

/** The folders of a run: results (results.arrow, runs/) and the teacher store. */
export function checkRunOutputs(resultsDir: string, teachersDir = join(resultsDir, 'teachers')): void {
  checkWritableDir(resultsDir, 'results folder');
  checkWritableDir(join(resultsDir, 'runs'), 'runs folder');
  checkWritableDir(teachersDir, 'teacher store');
}
