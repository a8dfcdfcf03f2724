/**
 * A small push parser for tar streams (ustar, GNU long names, pax path records). Feed it the
 * decompressed bytes in chunks; it calls `onEntry` once per entry with the entry's whole body.
 * Bodies are buffered, which suits the CIFAR archives (largest member about 31 MB).
 */
import { DataError } from './errors.js';

export type TarEntryType = 'file' | 'directory' | 'other';

export interface TarEntry {
  /** Path inside the archive, '/'-separated, without a leading './'. */
  readonly name: string;
  readonly type: TarEntryType;
  readonly size: number;
  readonly mode: number;
}

const BLOCK = 512;

export class TarParser {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private offset = 0;
  private header: { entry: TarEntry; typeflag: string } | null = null;
  private longName: string | null = null;
  private paxPath: string | null = null;
  private finished = false;

  /** `label` names the archive in error messages. */
  constructor(
    private readonly onEntry: (entry: TarEntry, body: Buffer) => void,
    private readonly label = 'tar archive',
  ) {}

  push(chunk: Buffer): void {
    if (this.finished || chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    for (;;) {
      const need = this.header ? padded(this.header.entry.size) : BLOCK;
      if (this.buffered < need) return;
      const block = this.take(need);
      if (this.header) {
        const { entry, typeflag } = this.header;
        this.header = null;
        this.handleBody(entry, typeflag, block.subarray(0, entry.size));
      } else if (this.parseHeader(block)) {
        this.finished = true;
        this.chunks = [];
        return;
      }
    }
  }

  /** Call after the last chunk: throws if the stream stopped inside an entry. */
  end(): void {
    if (this.finished) return;
    if (this.header || this.buffered > 0) {
      throw new DataError(`${this.label} is truncated (stream ended inside an entry at byte ${this.offset})`, this.label);
    }
  }

  private take(n: number): Buffer {
    let out: Buffer;
    const first = this.chunks[0]!;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      const all = Buffer.concat(this.chunks, this.buffered);
      out = all.subarray(0, n);
      this.chunks = all.length > n ? [all.subarray(n)] : [];
    }
    this.buffered -= n;
    this.offset += n;
    return out;
  }

  /** Returns true at the end-of-archive marker (a zero block). */
  private parseHeader(block: Buffer): boolean {
    if (block.every((b) => b === 0)) return true;
    const stored = parseOctal(block, 148, 8);
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : block[i]!;
    if (stored !== sum) {
      throw new DataError(`${this.label}: corrupt tar header at byte ${this.offset - BLOCK} (checksum mismatch)`, this.label);
    }
    let name = cString(block, 0, 100);
    if (block.toString('latin1', 257, 262) === 'ustar') {
      const prefix = cString(block, 345, 155);
      if (prefix) name = `${prefix}/${name}`;
    }
    if (this.paxPath !== null) name = this.paxPath;
    if (this.longName !== null) name = this.longName;
    const typeflag = block[156] === 0 ? '0' : String.fromCharCode(block[156]!);
    const size = parseNumber(block, 124, 12);
    const mode = parseOctal(block, 100, 8);
    const type: TarEntryType = typeflag === '0' || typeflag === '7' ? 'file' : typeflag === '5' ? 'directory' : 'other';
    const entry: TarEntry = { name: cleanName(name), type, size, mode };
    if (typeflag !== 'L' && typeflag !== 'x') {
      this.longName = null;
      this.paxPath = null;
    }
    if (size === 0) this.handleBody(entry, typeflag, Buffer.alloc(0));
    else this.header = { entry, typeflag };
    return false;
  }

  private handleBody(entry: TarEntry, typeflag: string, body: Buffer): void {
    if (typeflag === 'L') {
      this.longName = cString(body, 0, body.length);
    } else if (typeflag === 'x') {
      const p = paxRecord(body, 'path');
      if (p !== null) this.paxPath = p;
    } else if (typeflag !== 'g') {
      this.onEntry(entry, body);
    }
  }
}

function padded(size: number): number {
  return Math.ceil(size / BLOCK) * BLOCK;
}

function cString(buf: Buffer, start: number, len: number): string {
  const end = buf.indexOf(0, start);
  return buf.toString('utf8', start, end === -1 || end > start + len ? start + len : end);
}

function parseOctal(buf: Buffer, start: number, len: number): number {
  const text = buf.toString('latin1', start, start + len).replace(/[\0 ]+/g, ' ').trim();
  return text ? parseInt(text, 8) : 0;
}

/** Numeric header field: octal text, or base-256 (high bit set) for large values. */
function parseNumber(buf: Buffer, start: number, len: number): number {
  if ((buf[start]! & 0x80) === 0) return parseOctal(buf, start, len);
  let v = buf[start]! & 0x7f;
  for (let i = 1; i < len; i++) v = v * 256 + buf[start + i]!;
  return v;
}

/** Value of `key` in a pax extended header body ("<len> key=value\n" records). */
function paxRecord(body: Buffer, key: string): string | null {
  let pos = 0;
  let found: string | null = null;
  while (pos < body.length) {
    const space = body.indexOf(0x20, pos);
    if (space === -1) break;
    const len = parseInt(body.toString('latin1', pos, space), 10);
    if (!(len > 0)) break;
    const record = body.toString('utf8', space + 1, pos + len - 1);
    const eq = record.indexOf('=');
    if (eq !== -1 && record.slice(0, eq) === key) found = record.slice(eq + 1);
    pos += len;
  }
  return found;
}

function cleanName(name: string): string {
  let n = name;
  while (n.startsWith('./')) n = n.slice(2);
  return n.endsWith('/') ? n.slice(0, -1) : n;
}
