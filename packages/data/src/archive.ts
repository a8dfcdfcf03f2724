/**
 * Reading .tar.gz archives with zlib and the TarParser: pull selected members into memory
 * (loading straight from an archive) or extract all members safely into a folder (fetch).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { DataError } from './errors.js';
import { TarParser, type TarEntry } from './tar.js';

/** Streams `archive` through gunzip and the tar parser, calling `onEntry` per member. */
export async function walkTarGz(archive: string, onEntry: (entry: TarEntry, body: Buffer) => void): Promise<void> {
  const parser = new TarParser(onEntry, archive);
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      try {
        parser.push(chunk);
        done();
      } catch (err) {
        done(err as Error);
      }
    },
    final(done) {
      try {
        parser.end();
        done();
      } catch (err) {
        done(err as Error);
      }
    },
  });
  try {
    await pipeline(fs.createReadStream(archive), createGunzip(), sink);
  } catch (err) {
    if (err instanceof DataError) throw err;
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') throw new DataError(`archive not found: ${archive}`, archive);
    throw new DataError(`cannot read ${archive} as .tar.gz: ${e.message}`, archive);
  }
}

/** The bodies of the regular-file members whose names satisfy `want`, keyed by member name. */
export async function readTarGzMembers(archive: string, want: (name: string) => boolean): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  await walkTarGz(archive, (entry, body) => {
    if (entry.type === 'file' && want(entry.name)) out.set(entry.name, Buffer.from(body));
  });
  return out;
}

/**
 * Extracts files and folders of `archive` under `destDir` (other member types are skipped).
 * Each file is written to a temporary name and renamed, so readers never see half a file.
 * Members with absolute paths or '..' segments are refused. Returns the extracted member names.
 */
export async function extractTarGz(archive: string, destDir: string): Promise<string[]> {
  const names: string[] = [];
  const root = path.resolve(destDir);
  await walkTarGz(archive, (entry, body) => {
    if (entry.type === 'other' || entry.name === '' || entry.name === '.') return;
    const parts = entry.name.split('/');
    if (entry.name.startsWith('/') || parts.includes('..')) {
      throw new DataError(`${archive}: refusing to extract unsafe member path '${entry.name}'`, archive);
    }
    const target = path.join(root, ...parts);
    if (entry.type === 'directory') {
      fs.mkdirSync(target, { recursive: true });
      return;
    }
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const tmp = `${target}.${process.pid}.partial`;
    fs.writeFileSync(tmp, body);
    fs.renameSync(tmp, target);
    names.push(entry.name);
  });
  return names;
}
