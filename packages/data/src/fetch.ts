/**
 * fetchDataset: downloads the official archive of a dataset into the data dir (temporary file,
 * md5 check, atomic rename), then extracts it. A verified archive already present is reused.
 * The base URL can be redirected with KDBENCH_CIFAR_MIRROR, or the whole URL with `url`.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { extractTarGz } from './archive.js';
import { datasetSpec } from './datasets.js';
import { downloadToFile } from './download.js';
import { DataError } from './errors.js';
import { md5File } from './md5.js';
import type { DatasetId } from './types.js';

export interface FetchOptions {
  dataDir: string;
  /** Full archive URL; default: $KDBENCH_CIFAR_MIRROR + archive name, else the official URL. */
  url?: string;
  /** Expected archive md5; default the official one (tests serve their own archive). */
  md5?: string;
  onProgress?: (received: number, total: number | undefined) => void;
  /** Download again even when a verified archive is present. */
  force?: boolean;
  /** Environment to read KDBENCH_CIFAR_MIRROR from (default process.env). */
  env?: NodeJS.ProcessEnv;
}

/** Where fetchDataset would download `id` from. */
export function archiveUrl(id: DatasetId, env: NodeJS.ProcessEnv = process.env): string {
  const spec = datasetSpec(id);
  const mirror = env['KDBENCH_CIFAR_MIRROR'];
  if (!mirror) return spec.url;
  return mirror.endsWith('/') ? mirror + spec.archive : `${mirror}/${spec.archive}`;
}

/** Downloads (if needed), verifies and extracts `id`; returns the extracted dataset folder. */
export async function fetchDataset(id: DatasetId, opts: FetchOptions): Promise<string> {
  const spec = datasetSpec(id);
  const dataDir = path.resolve(opts.dataDir);
  const expected = (opts.md5 ?? spec.archiveMd5).toLowerCase();
  const url = opts.url ?? archiveUrl(id, opts.env);
  const archive = path.join(dataDir, spec.archive);
  fs.mkdirSync(dataDir, { recursive: true });

  const present = fs.statSync(archive, { throwIfNoEntry: false })?.isFile() ?? false;
  if (opts.force || !present || (await md5File(archive)) !== expected) {
    const tmp = path.join(dataDir, `.${spec.archive}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.part`);
    try {
      const actual = await downloadToFile(url, tmp, { onProgress: opts.onProgress });
      if (actual !== expected) {
        throw new DataError(
          `md5 mismatch for ${url} (downloading to ${archive}): expected ${expected}, got ${actual}; ` +
            `the download is corrupt or the mirror serves a different file. Nothing was kept.`,
          archive,
        );
      }
      fs.renameSync(tmp, archive);
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  }
  await extractTarGz(archive, dataDir);
  const folder = path.join(dataDir, spec.folder);
  if (!fs.statSync(folder, { throwIfNoEntry: false })?.isDirectory()) {
    throw new DataError(`${archive} did not contain the expected folder ${spec.folder}/`, archive);
  }
  return folder;
}
