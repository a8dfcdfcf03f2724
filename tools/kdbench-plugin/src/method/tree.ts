/**
 * The part of nx's `Tree` the method generator uses, so that it runs on nx's tree (through
 * `nx g`), on a folder of the disk (`FsTree`, for tests on a temporary copy) or in memory
 * (`MemoryTree`). Paths are relative to the workspace root, with forward slashes.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface TreeLike {
  read(path: string, encoding: 'utf-8'): string | null;
  write(path: string, content: string): void;
  exists(path: string): boolean;
  /** Names of the entries directly inside a folder ([] when it does not exist). */
  children(dirPath: string): string[];
  isFile(path: string): boolean;
}

/** A tree over a folder of the disk: writes go straight to the files. */
export class FsTree implements TreeLike {
  constructor(readonly root: string) {}
  read(path: string): string | null {
    const p = join(this.root, path);
    return existsSync(p) && statSync(p).isFile() ? readFileSync(p, 'utf8') : null;
  }
  write(path: string, content: string): void {
    const p = join(this.root, path);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, content);
  }
  exists(path: string): boolean {
    return existsSync(join(this.root, path));
  }
  children(dirPath: string): string[] {
    const p = join(this.root, dirPath);
    return existsSync(p) && statSync(p).isDirectory() ? readdirSync(p) : [];
  }
  isFile(path: string): boolean {
    const p = join(this.root, path);
    return existsSync(p) && statSync(p).isFile();
  }
}

/** An in-memory tree (file path -> content); folders exist implicitly. */
export class MemoryTree implements TreeLike {
  readonly files = new Map<string, string>();
  constructor(files: Record<string, string> = {}) {
    for (const [k, v] of Object.entries(files)) this.files.set(k, v);
  }
  read(path: string): string | null {
    return this.files.get(path) ?? null;
  }
  write(path: string, content: string): void {
    this.files.set(path, content);
  }
  exists(path: string): boolean {
    return this.files.has(path) || [...this.files.keys()].some((k) => k.startsWith(`${path}/`));
  }
  children(dirPath: string): string[] {
    const prefix = dirPath === '' || dirPath === '.' ? '' : `${dirPath}/`;
    const names = new Set<string>();
    for (const k of this.files.keys()) if (k.startsWith(prefix)) names.add(k.slice(prefix.length).split('/')[0]!);
    return [...names];
  }
  isFile(path: string): boolean {
    return this.files.has(path);
  }
}
