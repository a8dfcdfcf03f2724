/**
 * Lock files shared by processes (and machines on a shared filesystem): created exclusively,
 * holding `host pid` of the holder. A lock whose holder is a dead process on this host (a killed
 * worker) can be broken at once; a lock on another host only once it is older than its stale age
 * (holders of long leases refresh it with `touchLock`).
 */
import { closeSync, openSync, readFileSync, statSync, unlinkSync, utimesSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';

/** Creates the lock file if nobody holds it; false when it exists. */
export function tryCreateLock(file: string): boolean {
  try {
    const fd = openSync(file, 'wx');
    try {
      writeSync(fd, `${hostname()} ${process.pid}`);
    } finally {
      closeSync(fd);
    }
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}

/** `host pid` of the holder, or undefined when the lock is gone or being written. */
export function lockHolder(file: string): { host: string; pid: number } | undefined {
  try {
    const [host, pidText] = readFileSync(file, 'utf8').split(' ');
    const pid = Number(pidText);
    return host && Number.isInteger(pid) && pid > 0 ? { host, pid } : undefined;
  } catch {
    return undefined;
  }
}

/** True when the holder is a process of this host that no longer exists. */
export function lockHolderIsDead(file: string): boolean {
  const holder = lockHolder(file);
  if (!holder || holder.host !== hostname()) return false;
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Removes a lock that is stale (older than staleMs since its last touch) or whose holder died; true if removed. */
export function breakStaleLock(file: string, staleMs: number): boolean {
  try {
    if (Date.now() - statSync(file).mtimeMs > staleMs || lockHolderIsDead(file)) {
      unlinkSync(file);
      return true;
    }
  } catch {
    /* released meanwhile */
  }
  return false;
}

/** Refreshes a held lock's age (a heartbeat for long leases). */
export function touchLock(file: string): void {
  const now = new Date();
  try {
    utimesSync(file, now, now);
  } catch {
    /* lost: the next holder check tells */
  }
}

export function releaseLock(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    /* already gone */
  }
}
