/**
 * HTTP(S) download of one URL to a file, following redirects, reporting progress and
 * computing the md5 on the fly. Node built-ins only.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DataError } from './errors.js';

export interface DownloadOptions {
  onProgress?: (received: number, total: number | undefined) => void;
  /** Abort when no data arrives for this long (ms). Default 60 s. */
  idleTimeoutMs?: number;
  maxRedirects?: number;
}

/** Downloads `url` into `dest` (created or overwritten) and returns the md5 of the bytes. */
export async function downloadToFile(url: string, dest: string, opts: DownloadOptions = {}): Promise<string> {
  const res = await request(url, opts.maxRedirects ?? 5, opts.idleTimeoutMs ?? 60_000);
  const header = res.headers['content-length'];
  const total = header !== undefined && /^\d+$/.test(header) ? Number(header) : undefined;
  const hash = createHash('md5');
  let received = 0;
  opts.onProgress?.(0, total);
  const meter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      received += chunk.length;
      opts.onProgress?.(received, total);
      done(null, chunk);
    },
  });
  try {
    await pipeline(res, meter, fs.createWriteStream(dest));
  } catch (err) {
    throw new DataError(`download of ${url} failed after ${received} bytes: ${(err as Error).message}`, url);
  }
  if (total !== undefined && received !== total) {
    throw new DataError(`download of ${url} incomplete: got ${received} of ${total} bytes`, url);
  }
  return hash.digest('hex');
}

function request(url: string, redirectsLeft: number, idleMs: number): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      reject(new DataError(`invalid download URL '${url}'`, url));
      return;
    }
    const lib = parsed.protocol === 'https:' ? https : parsed.protocol === 'http:' ? http : null;
    if (!lib) {
      reject(new DataError(`unsupported URL protocol in '${url}' (use http or https)`, url));
      return;
    }
    const req = lib.get(parsed, (res) => {
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if (status >= 300 && status < 400 && location) {
        res.resume();
        if (redirectsLeft <= 0) reject(new DataError(`too many redirects fetching ${url}`, url));
        else request(new URL(location, parsed).toString(), redirectsLeft - 1, idleMs).then(resolve, reject);
        return;
      }
      if (status !== 200) {
        res.resume();
        reject(new DataError(`download of ${url} failed: HTTP ${status} ${res.statusMessage ?? ''}`.trim(), url));
        return;
      }
      resolve(res);
    });
    req.setTimeout(idleMs, () => req.destroy(new Error(`no data for ${idleMs} ms`)));
    req.on('error', (err) => reject(new DataError(`download of ${url} failed: ${err.message}`, url)));
  });
}
