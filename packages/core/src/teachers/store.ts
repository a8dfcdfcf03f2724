/**
 * The teacher store: teachers are trained once per (architecture, dataset, protocol, split, seed)
 * and reused by every method. An entry lives in `<dir>/<name>-<key>/` as a weight file plus
 * `teacher.json`; the key hashes the full training description, and the weight file's sha256 is
 * the teacher hash every result records.
 *
 * A teacher being trained holds a lease file `<dir>/<name>-<key>.training`, so that other processes
 * (suite workers, shards on other machines sharing the store) wait for it instead of training the
 * same teacher twice. The holder refreshes the lease while it trains; a lease whose holder died on
 * this host, or that was not refreshed for TEACHER_LEASE_STALE_MS, is taken over.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { breakStaleLock, releaseLock, sha256Hex, touchLock, tryCreateLock, writeFileAtomic } from '@kdbench/engine';
import { createModel, loadWeights, saveWeights, type Model } from '@kdbench/models';

export interface TeacherSpec {
  arch: string;
  dataset: string;
  numClasses: number;
  protocol: string;
  widthFactor: number;
  epochs: number;
  seed: number;
  /** The run's split description (RunSplits.description) and train subset. */
  split: string;
  trainSize: number;
  /** The training recipe when it departs from the protocol's (`trainingRecipe`); absent otherwise. */
  recipe?: string;
}

export interface TeacherEntry {
  key: string;
  /** Folder of the entry, relative to the store (so a store can be copied or committed as a fixture). */
  name: string;
  /** sha256 of the weight file. */
  sha256: string;
  spec: TeacherSpec;
  best: { top1: number; top5: number; epoch: number };
  last: { top1: number; top5: number };
  backend: string;
  trainedAt: string;
  wallSeconds: number;
}

export function teacherKey(spec: TeacherSpec): string {
  const canonical = JSON.stringify(Object.keys(spec).sort().map((k) => [k, spec[k as keyof TeacherSpec]]));
  return sha256Hex(canonical).slice(0, 16);
}

/** A training lease not refreshed for this long is considered abandoned (holders refresh every ~30 s). */
export const TEACHER_LEASE_STALE_MS = 10 * 60_000;

export class TeacherStore {
  constructor(readonly dir: string) {}

  private entryName(spec: TeacherSpec): string {
    return `${spec.arch}-${spec.dataset}-${spec.protocol}-s${spec.seed}-${teacherKey(spec)}`;
  }

  leaseFile(spec: TeacherSpec): string {
    return join(this.dir, `${this.entryName(spec)}.training`);
  }

  /** Takes the training lease of a teacher; false while another live holder has it. */
  tryLease(spec: TeacherSpec, staleMs = TEACHER_LEASE_STALE_MS): boolean {
    mkdirSync(this.dir, { recursive: true });
    const file = this.leaseFile(spec);
    breakStaleLock(file, staleMs);
    return tryCreateLock(file);
  }

  /** Refreshes a held lease (call at least every few minutes while training). */
  renewLease(spec: TeacherSpec): void {
    touchLock(this.leaseFile(spec));
  }

  releaseLease(spec: TeacherSpec): void {
    releaseLock(this.leaseFile(spec));
  }

  weightsFile(entry: TeacherEntry): string {
    return join(this.dir, entry.name, 'weights.kdbt');
  }

  find(spec: TeacherSpec): TeacherEntry | undefined {
    const file = join(this.dir, this.entryName(spec), 'teacher.json');
    return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as TeacherEntry) : undefined;
  }

  list(): TeacherEntry[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir)
      .map((d) => join(this.dir, d, 'teacher.json'))
      .filter((f) => existsSync(f))
      .map((f) => JSON.parse(readFileSync(f, 'utf8')) as TeacherEntry);
  }

  /** Loads a stored teacher's weights into a fresh model; checks the file's hash. */
  async load(entry: TeacherEntry): Promise<Model> {
    const model = createModel(entry.spec.arch, {
      numClasses: entry.spec.numClasses, seed: entry.spec.seed, widthFactor: entry.spec.widthFactor,
    });
    const file = this.weightsFile(entry);
    const { sha256 } = await loadWeights(model, file);
    if (sha256 !== entry.sha256) {
      model.dispose();
      throw new Error(`teacher ${file}: content hash ${sha256} does not match the store's ${entry.sha256}`);
    }
    return model;
  }

  /** Saves a trained teacher and its record; returns the entry. */
  async save(
    spec: TeacherSpec,
    model: Model,
    info: Pick<TeacherEntry, 'best' | 'last' | 'backend' | 'wallSeconds'>,
  ): Promise<TeacherEntry> {
    const name = this.entryName(spec);
    mkdirSync(join(this.dir, name), { recursive: true });
    const { sha256 } = await saveWeights(model, join(this.dir, name, 'weights.kdbt'));
    const entry: TeacherEntry = { key: teacherKey(spec), name, sha256, spec, ...info, trainedAt: new Date().toISOString() };
    writeFileAtomic(join(this.dir, name, 'teacher.json'), JSON.stringify(entry, null, 2));
    return entry;
  }
}
