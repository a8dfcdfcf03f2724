/** Test paths: the monorepo root, the shared CIFAR data dir, and throwaway temp dirs. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

/** The real CIFAR files (read-only): $KDBENCH_DATA_DIR or <repo>/../shared/datasets. */
export const DATA_DIR = process.env.KDBENCH_DATA_DIR ?? path.resolve(repoRoot, '../shared/datasets');

if (!fs.existsSync(path.join(DATA_DIR, 'cifar-10-batches-bin'))) {
  throw new Error(`test data not found in ${DATA_DIR}: set KDBENCH_DATA_DIR or place shared/datasets beside the repo`);
}

export const CIFAR10_DIR = path.join(DATA_DIR, 'cifar-10-batches-bin');
export const CIFAR100_DIR = path.join(DATA_DIR, 'cifar-100-binary');

const made: string[] = [];

/** A fresh temp dir, removed by cleanupTempDirs(). */
export function tempDir(label = 'kdbench-data-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), label));
  made.push(dir);
  return dir;
}

export function cleanupTempDirs(): void {
  for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true });
}
