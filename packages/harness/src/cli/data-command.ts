/** `kdbench data fetch cifar10|cifar100`: download, verify md5, extract into the data dir. */
import { ConfigError } from '@kdbench/core';
import { fetchDataset, formatProgress } from '@kdbench/data';
import { DATASETS } from '../run.js';
import { dataDir, parse } from './args.js';
import { DATA_HELP } from './help.js';

export async function dataCommand(argv: string[]): Promise<number> {
  const { values: o, positionals } = parse(argv, { help: { type: 'boolean', short: 'h' }, 'data-dir': { type: 'string' } }, DATA_HELP);
  if (o.help) return (console.log(DATA_HELP), 0);
  const [verb, id] = positionals;
  if (verb !== 'fetch' || !id) throw new ConfigError(`expected 'kdbench data fetch <dataset>' (kdbench data --help)`);
  if (!DATASETS.includes(id as never)) throw new ConfigError(`unknown dataset '${id}'. Known datasets: ${DATASETS.join(', ')}`);
  const dir = dataDir(o);
  const tty = process.stderr.isTTY;
  const out = await fetchDataset(id as never, {
    dataDir: dir,
    onProgress: (received, total) => { if (tty) process.stderr.write(`\r${formatProgress(received, total)}`); },
  });
  if (tty) process.stderr.write('\n');
  console.log(`${id} is ready in ${out}`);
  return 0;
}
