/**
 * The teacher-output cache: a stored teacher's logits for one epoch of one data stream, in batch
 * order, as a float32 tensor file beside the teacher in its store
 * (`<teachers>/<entry>/logits/<stream key>/s<seed>-e<epoch>.kdbt`).
 *
 * Batch order and augmentation are a pure function of (seed, epoch) (packages/data batches), so the
 * logits of (teacher hash, dataset, split, batch size, augmentation, backend, seed, epoch) are
 * valid for every method trained on that stream: response-based methods (teacherOutputs 'logits')
 * read them instead of running the teacher. The backend and batch size are part of the key so that
 * cached logits equal recomputed ones bit for bit.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TeacherLogitsCache } from '@kdbench/core';
import { TensorFileError, readTensorFile, sha256Hex, writeTensorFile } from '@kdbench/engine';

export interface TeacherStreamKey {
  teacherHash: string;
  dataset: string;
  /** RunSplits.description and the train subset size. */
  split: string;
  trainSize: number;
  batchSize: number;
  augment: boolean;
  backend: string;
  /** Set (true) only when the stream drops each epoch's last incomplete batch. */
  dropLast?: boolean;
}

interface CacheMeta extends TeacherStreamKey {
  seed: number;
  epoch: number;
  classes: number;
}

export class TeacherLogitsFiles implements TeacherLogitsCache {
  readonly dir: string;
  hits = 0;
  misses = 0;

  constructor(teacherDir: string, readonly key: TeacherStreamKey) {
    this.dir = join(teacherDir, 'logits', sha256Hex(JSON.stringify(key)).slice(0, 16));
  }

  /** Rows of one epoch of the stream. */
  rows(): number {
    const { trainSize, batchSize, dropLast } = this.key;
    return dropLast ? Math.floor(trainSize / batchSize) * batchSize : trainSize;
  }

  file(seed: number, epoch: number): string {
    return join(this.dir, `s${seed}-e${epoch}.kdbt`);
  }

  read(seed: number, epoch: number): { values: Float32Array; classes: number } | undefined {
    const file = this.file(seed, epoch);
    if (!existsSync(file)) {
      this.misses++;
      return undefined;
    }
    try {
      const f = readTensorFile<CacheMeta>(file);
      const logits = f.tensors.get('logits');
      const m = f.meta;
      const same = m.seed === seed && m.epoch === epoch && (Object.keys(this.key) as (keyof TeacherStreamKey)[]).every((k) => m[k] === this.key[k]);
      if (!logits || !same || logits.shape[0] !== this.rows()) throw new TensorFileError(`${file}: does not match its key`);
      this.hits++;
      return { values: logits.values, classes: logits.shape[1]! };
    } catch {
      this.misses++; // unreadable or foreign: recompute (and overwrite)
      return undefined;
    }
  }

  write(seed: number, epoch: number, values: Float32Array, classes: number): void {
    const meta: CacheMeta = { ...this.key, seed, epoch, classes };
    writeTensorFile(this.file(seed, epoch), meta, [{ name: 'logits', shape: [values.length / classes, classes], values }]);
  }
}

/** Whether the teacher-output cache is on: `teacherCache` if given, else $KDBENCH_TEACHER_CACHE (default on). */
export function teacherCacheEnabled(flag?: boolean): boolean {
  if (flag !== undefined) return flag;
  return !/^(0|off|false|no)$/i.test(process.env.KDBENCH_TEACHER_CACHE ?? '');
}
