/**
 * The CLI's one error boundary: any error of any command becomes one line (`kdbench run: ...`) and
 * an exit code per kind. The stack is printed only with --debug or KDBENCH_DEBUG=1.
 *
 * Errors are recognised by class name (through the prototype chain), not by `instanceof`, so this
 * module imports nothing: the CLI can load it, and print its help, before any heavy package.
 */

/** Exit codes, one per kind of failure (documented in README.md). */
export const EXIT = {
  ok: 0,
  /** A suite finished but some of its runs (or teachers) failed. */
  failedRuns: 1,
  /** Bad command line, option value, suite file, method, model or hyperparameter. */
  usage: 2,
  /** Training diverged (a loss became NaN or infinite). */
  diverged: 3,
  /** A data or results file is missing, truncated or not what it should be. */
  data: 4,
  /** A file or folder cannot be created, read or written (permissions, a file where a folder should be, a full disk). */
  io: 5,
  /** A bug: anything else. */
  internal: 6,
} as const;

export type ErrorKind = 'usage' | 'diverged' | 'data' | 'io' | 'internal';

const USAGE_ERRORS = ['ConfigError', 'UnknownMethodError', 'SuiteError', 'UsageError'];
const DATA_ERRORS = ['DataError', 'TensorFileError', 'ResultsFileError'];
const IO_ERRORS = ['RunBusyError', 'OutputError'];

/** A problem with the command line itself (unknown option, missing value). */
export class UsageError extends Error {}

/** An output folder or file that cannot be used (checked before any work starts). */
export class OutputError extends Error {}

const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EISDIR: 'it is a folder',
  ENOENT: 'no such file or folder',
  EEXIST: 'it already exists',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EMFILE: 'too many open files',
  EBUSY: 'busy',
  ENAMETOOLONG: 'the name is too long',
  ELOOP: 'too many symbolic links',
  EXDEV: 'on another device',
};

const VERBS: Record<string, string> = {
  mkdir: 'create', open: 'open', rename: 'replace', unlink: 'remove', rmdir: 'remove', rm: 'remove', scandir: 'list',
  read: 'read', write: 'write', stat: 'read', lstat: 'read', copyfile: 'copy', access: 'access', link: 'create', symlink: 'create',
  utime: 'touch', chmod: 'change',
};

interface SystemError extends Error {
  code: string;
  syscall?: string;
  path?: string;
  dest?: string;
}

function isSystemError(e: unknown): e is SystemError {
  return e instanceof Error && typeof (e as SystemError).code === 'string' && /^E[A-Z]+$/.test((e as SystemError).code)
    && typeof (e as SystemError).syscall === 'string';
}

function classNames(e: unknown): string[] {
  const names: string[] = [];
  for (let p = e !== null && typeof e === 'object' ? Object.getPrototypeOf(e) : null; p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    const n = (p.constructor as { name?: string } | undefined)?.name;
    if (n) names.push(n);
  }
  if (e instanceof Error && e.name) names.push(e.name);
  return names;
}

export function errorKind(e: unknown): ErrorKind {
  const names = classNames(e);
  if (names.some((n) => USAGE_ERRORS.includes(n))) return 'usage';
  if (names.includes('NonFiniteLossError')) return 'diverged';
  if (names.some((n) => DATA_ERRORS.includes(n))) return 'data';
  if (names.some((n) => IO_ERRORS.includes(n)) || isSystemError(e)) return 'io';
  return 'internal';
}

/** `cannot create /x/results/runs/ab12: permission denied` for a Node file-system error. */
export function describeSystemError(e: SystemError): string {
  const verb = VERBS[e.syscall ?? ''] ?? e.syscall ?? 'use';
  const reason = REASONS[e.code] ?? e.code;
  const what = e.path ? `${e.path}${e.dest ? ` with ${e.dest}` : ''}` : '';
  return what ? `cannot ${verb} ${what}: ${reason}` : `${verb}: ${reason}`;
}

/** The text printed for an error: its message, or a rewritten one for system errors, internal errors and divergence. */
export function describeError(e: unknown, kind: ErrorKind = errorKind(e)): string {
  if (isSystemError(e)) return describeSystemError(e);
  const message = e instanceof Error ? e.message : String(e);
  if (kind === 'diverged') {
    return `training diverged: ${message}. The last epoch's checkpoint is kept; lower the learning rate (--set lr=...) `
      + "or the method's loss weights (--hp ...) and run again.";
  }
  if (kind === 'internal') {
    const first = message.split('\n')[0]!.slice(0, 300) || (e instanceof Error ? e.name : 'unknown error');
    return `internal error: ${first} (run again with --debug for the stack, and please report it)`;
  }
  return message;
}

export function debugEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.KDBENCH_DEBUG === '1' || env.KDBENCH_DEBUG === 'true';
}

/**
 * Prints `kdbench <command>: <message>` on stderr (the stack too when `debug`) and returns the
 * exit code of the error's kind.
 */
export function reportError(command: string, e: unknown, debug = debugEnabled()): number {
  return printError(command ? `kdbench ${command}` : 'kdbench', e, debug);
}

/** Prints `<prefix>: <message>` for each line of the error's text; returns the exit code of its kind. */
export function printError(prefix: string, e: unknown, debug = debugEnabled()): number {
  const kind = errorKind(e);
  console.error(describeError(e, kind).split('\n').map((line) => (line ? `${prefix}: ${line}` : line)).join('\n'));
  if (debug && e instanceof Error && e.stack) console.error(e.stack);
  return EXIT[kind];
}

/**
 * Makes an error escaping every handler (a throwing callback, an unhandled rejection) end the
 * process the same way. Installed first thing, so it runs before the handler the wasm backend's
 * Emscripten module adds later (which would rethrow and print a 38 KB line of minified source).
 * `prefix` names what failed (`kdbench run`, or a script's name). A closed stdout is no error.
 */
export function installProcessGuards(prefix: () => string, debug: () => boolean): void {
  const fatal = (e: unknown) => process.exit(printError(prefix(), e, debug()));
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);
  process.stdout.on('error', (e: NodeJS.ErrnoException) => (isClosedReader(e) ? undefined : fatal(e)));
}

/**
 * A reader that stops early (`kdbench results list | head`) closes stdout. The command still
 * finishes what it does (the files it writes are written whole), and says nothing about the pipe:
 * its output is what the reader took.
 */
function isClosedReader(e: NodeJS.ErrnoException): boolean {
  return e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED';
}
