/**
 * loadCifar: reads a CIFAR dataset from a data dir holding either the extracted official
 * folder or the official .tar.gz archive. Any subset of the training batch files is used
 * (at least one is needed); the test file is optional.
 */
import fs from 'node:fs';
import path from 'node:path';
import { readTarGzMembers } from './archive.js';
import { datasetSpec, type DatasetSpec } from './datasets.js';
import { DataError } from './errors.js';
import { md5Buffer, md5File } from './md5.js';
import { decodeRecords, joinFiles, parseClassNames, type DecodedFile } from './records.js';
import type { CifarData, DatasetId, RawSplit } from './types.js';

export interface LoadOptions {
  dataDir: string;
  /** Check the md5 of every file read (and of the archive) against the official checksums. Default false. */
  verify?: boolean;
  /** Expected md5 by file name (e.g. 'data_batch_1.bin', 'cifar-10-binary.tar.gz'); overrides the official ones. Implies checking those files. */
  md5?: Readonly<Record<string, string>>;
}

const CIFAR10_NAMES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

/** Files of the dataset folder, either on disk or inside the archive. */
interface Source {
  has(name: string): boolean;
  read(name: string): Promise<Buffer>;
  /** How to name a member in messages and in CifarData.files. */
  label(name: string): string;
}

function checkMd5(expected: string, actual: string, where: string): void {
  if (actual !== expected.toLowerCase()) {
    throw new DataError(`md5 mismatch for ${where}: expected ${expected}, got ${actual} (file corrupt or not the official one)`, where);
  }
}

export async function loadCifar(id: DatasetId, opts: LoadOptions): Promise<CifarData> {
  const spec = datasetSpec(id);
  const expectedMd5 = (name: string): string | undefined =>
    opts.md5?.[name] ?? (opts.verify ? spec.fileMd5[name] ?? (name === spec.archive ? spec.archiveMd5 : undefined) : undefined);
  const source = await openSource(spec, opts.dataDir, expectedMd5);
  const files: string[] = [];
  const readRecords = async (name: string): Promise<DecodedFile> => {
    const where = source.label(name);
    const bytes = await source.read(name);
    const expected = expectedMd5(name);
    if (expected) checkMd5(expected, md5Buffer(bytes), where);
    files.push(where);
    return decodeRecords(bytes, spec, where);
  };

  const present = spec.trainFiles.map((name, k) => ({ name, k })).filter(({ name }) => source.has(name));
  if (present.length === 0) {
    throw new DataError(
      `${spec.title}: no training file in ${source.label('')}; expected at least one of ${spec.trainFiles.join(', ')}`,
      source.label(''),
    );
  }
  const decoded: DecodedFile[] = [];
  for (const { name } of present) {
    const d = await readRecords(name);
    if (d.n > spec.recordsPerTrainFile) {
      throw new DataError(
        `${source.label(name)} holds ${d.n} records; an official ${spec.title} training file holds at most ${spec.recordsPerTrainFile}`,
        source.label(name),
      );
    }
    decoded.push(d);
  }
  const train = joinFiles(decoded, present.map(({ k }) => k * spec.recordsPerTrainFile));
  let test: RawSplit | null = null;
  if (source.has(spec.testFile)) test = joinFiles([await readRecords(spec.testFile)], [0]);

  const names = async (file: string | null, count: number, fallback: (i: number) => string): Promise<string[]> => {
    if (file && source.has(file)) {
      const where = source.label(file);
      files.push(where);
      return parseClassNames((await source.read(file)).toString('utf8'), count, where);
    }
    return Array.from({ length: count }, (_, i) => fallback(i));
  };
  const classNames = await names(spec.classNamesFile, spec.numClasses, (i) =>
    spec.id === 'cifar10' ? CIFAR10_NAMES[i]! : `class_${i}`,
  );
  const base = { id: spec.id, numClasses: spec.numClasses, classNames, train, test, files };
  if (spec.numCoarseClasses > 0) {
    const coarseClassNames = await names(spec.coarseNamesFile, spec.numCoarseClasses, (i) => `coarse_${i}`);
    return { ...base, coarseClassNames };
  }
  return base;
}

async function openSource(
  spec: DatasetSpec,
  dataDir: string,
  expectedMd5: (name: string) => string | undefined,
): Promise<Source> {
  const folder = path.join(dataDir, spec.folder);
  if (isDir(folder)) {
    return {
      has: (name) => isFile(path.join(folder, name)),
      read: (name) => fs.promises.readFile(path.join(folder, name)),
      label: (name) => (name ? path.join(folder, name) : folder),
    };
  }
  const archive = path.join(dataDir, spec.archive);
  if (isFile(archive)) {
    const expected = expectedMd5(spec.archive);
    if (expected) checkMd5(expected, await md5File(archive), archive);
    const prefix = spec.folder + '/';
    const members = await readTarGzMembers(archive, (n) => n.startsWith(prefix) && !n.slice(prefix.length).includes('/'));
    return {
      has: (name) => members.has(prefix + name),
      read: async (name) => members.get(prefix + name)!,
      label: (name) => `${archive}:${prefix}${name}`,
    };
  }
  throw new DataError(
    `${spec.title} data not found: looked for the folder ${folder} (${spec.trainFiles[0]}` +
      `${spec.trainFiles.length > 1 ? ` .. ${spec.trainFiles[spec.trainFiles.length - 1]}` : ''}, ${spec.testFile}) ` +
      `and for the archive ${archive}. Run \`kdbench data fetch ${spec.id}\` to download it, ` +
      `or point --data-dir (or KDBENCH_DATA_DIR) at a folder that holds it.`,
    folder,
  );
}

function isDir(p: string): boolean {
  return fs.statSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false;
}

function isFile(p: string): boolean {
  return fs.statSync(p, { throwIfNoEntry: false })?.isFile() ?? false;
}
