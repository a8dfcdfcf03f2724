/**
 * One small binary format for named float32 tensors plus a JSON header: model weights,
 * training checkpoints and teacher-store entries all use it.
 *
 * Layout: 8-byte magic "KDBTENS1", uint32 LE header length, UTF-8 JSON header
 * ({ meta, tensors: [{ name, shape, offset }] }), zero padding to a multiple of 4, float32 LE data.
 * Files are written to a temporary name, fsynced and renamed, so a reader never sees half a file.
 */
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

const MAGIC = 'KDBTENS1';

export interface TensorEntry {
  readonly name: string;
  readonly shape: number[];
  readonly values: Float32Array;
}

export interface TensorFile<M = unknown> {
  readonly meta: M;
  readonly tensors: Map<string, TensorEntry>;
  readonly sha256: string;
}

export class TensorFileError extends Error {}

/** Serialises entries and meta to bytes (what a file would hold). */
export function encodeTensors(meta: unknown, entries: TensorEntry[]): Uint8Array {
  let offset = 0;
  const index = entries.map((e) => {
    const size = e.shape.reduce((a, b) => a * b, 1);
    if (size !== e.values.length) {
      throw new TensorFileError(`tensor '${e.name}': shape [${e.shape}] holds ${size} values, got ${e.values.length}`);
    }
    const item = { name: e.name, shape: e.shape, offset };
    offset += e.values.length;
    return item;
  });
  const header = Buffer.from(JSON.stringify({ meta, tensors: index }), 'utf8');
  const headerEnd = 12 + header.length;
  const dataStart = Math.ceil(headerEnd / 4) * 4;
  const out = new Uint8Array(dataStart + offset * 4);
  out.set(Buffer.from(MAGIC, 'latin1'), 0);
  new DataView(out.buffer).setUint32(8, header.length, true);
  out.set(header, 12);
  const data = new Float32Array(out.buffer, dataStart, offset);
  entries.forEach((e, i) => data.set(e.values, index[i]!.offset));
  return out;
}

/** Parses bytes produced by encodeTensors; `source` names the file in errors. */
export function decodeTensors<M = unknown>(bytes: Uint8Array, source = 'tensor file'): TensorFile<M> {
  if (bytes.length < 12 || Buffer.from(bytes.subarray(0, 8)).toString('latin1') !== MAGIC) {
    throw new TensorFileError(`${source}: not a kdbench tensor file (bad magic)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(8, true);
  if (12 + headerLength > bytes.length) throw new TensorFileError(`${source}: truncated header`);
  let header: { meta: M; tensors: { name: string; shape: number[]; offset: number }[] };
  try {
    header = JSON.parse(Buffer.from(bytes.subarray(12, 12 + headerLength)).toString('utf8'));
  } catch {
    throw new TensorFileError(`${source}: unreadable header`);
  }
  const dataStart = Math.ceil((12 + headerLength) / 4) * 4;
  const total = header.tensors.reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);
  const expected = dataStart + total * 4;
  if (bytes.length !== expected) {
    throw new TensorFileError(`${source}: truncated or corrupt (${bytes.length} bytes, expected ${expected})`);
  }
  const aligned = new Uint8Array(bytes.subarray(dataStart)); // copy: guarantees 4-byte alignment
  const data = new Float32Array(aligned.buffer, 0, total);
  const tensors = new Map<string, TensorEntry>();
  for (const t of header.tensors) {
    const size = t.shape.reduce((a, b) => a * b, 1);
    tensors.set(t.name, { name: t.name, shape: t.shape, values: data.subarray(t.offset, t.offset + size) });
  }
  return { meta: header.meta, tensors, sha256: sha256Hex(bytes) };
}

/** Writes atomically (temp file, fsync, rename); returns the content hash and size. */
export function writeTensorFile(file: string, meta: unknown, entries: TensorEntry[]): { sha256: string; bytes: number } {
  const bytes = encodeTensors(meta, entries);
  writeFileAtomic(file, bytes);
  return { sha256: sha256Hex(bytes), bytes: bytes.length };
}

export function readTensorFile<M = unknown>(file: string): TensorFile<M> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new TensorFileError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  return decodeTensors<M>(bytes, file);
}

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Write-then-rename with fsync, so that a crash leaves either the old file or the new one. */
export function writeFileAtomic(file: string, data: Uint8Array | string): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  const fd = openSync(tmp, 'w');
  try {
    try {
      writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true }); // a full disk or a folder at `file`: leave nothing behind
    throw e;
  }
}
