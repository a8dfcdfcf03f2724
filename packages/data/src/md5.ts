/** md5 checksums of files (streamed) and buffers, as lowercase hex. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

export async function md5File(file: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export function md5Buffer(data: Uint8Array): string {
  return createHash('md5').update(data).digest('hex');
}
