/** Test-only ustar writer: builds .tar / .tar.gz buffers from in-memory members. */
import { gzipSync } from 'node:zlib';

export interface Member {
  name: string;
  /** Omit for a directory. */
  data?: Uint8Array;
}

function header(name: string, size: number, type: '0' | '5'): Buffer {
  const h = Buffer.alloc(512);
  if (Buffer.byteLength(name) > 100) throw new Error(`name too long for this writer: ${name}`);
  h.write(name, 0, 'utf8');
  h.write((type === '5' ? '0000755' : '0000644') + '\0', 100, 'latin1');
  h.write('0000000\0', 108, 'latin1');
  h.write('0000000\0', 116, 'latin1');
  h.write(size.toString(8).padStart(11, '0') + '\0', 124, 'latin1');
  h.write('14000000000\0', 136, 'latin1');
  h.write(type, 156, 'latin1');
  h.write('ustar\0', 257, 'latin1');
  h.write('00', 263, 'latin1');
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  return h;
}

export function buildTar(members: Member[]): Buffer {
  const parts: Buffer[] = [];
  for (const m of members) {
    if (!m.data) {
      parts.push(header(m.name.endsWith('/') ? m.name : m.name + '/', 0, '5'));
      continue;
    }
    parts.push(header(m.name, m.data.length, '0'), Buffer.from(m.data));
    const pad = (512 - (m.data.length % 512)) % 512;
    if (pad) parts.push(Buffer.alloc(pad));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

export function buildTarGz(members: Member[]): Buffer {
  return gzipSync(buildTar(members), { level: 1 });
}
