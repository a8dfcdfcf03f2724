/**
 * A suite job (train one teacher, or one run) as executed by a worker process or in process.
 * Each job's log lines go to `<results>/logs/<job id>.log`, with a line per finished epoch (losses,
 * accuracy, seconds) so a run can be followed or diagnosed there; the progress events go to the caller.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TrainEvent } from '@kdbench/core';
import type { ResultRow } from '../results/schema.js';
import { epochText } from '../progress.js';
import { runOne, trainTeacherOnly } from '../run.js';
import type { PlannedRequest, PlannedTeacherRequest } from './suite.js';

export type Job =
  | { id: string; kind: 'teacher'; label: string; request: PlannedTeacherRequest }
  | { id: string; kind: 'run'; label: string; request: PlannedRequest };

/** The machine-specific part of every job of a suite run. */
export interface JobContext {
  dataDir: string;
  resultsDir: string;
  teachersDir?: string;
  backend?: string;
  teacherCache?: boolean;
}

export interface JobResult {
  row?: ResultRow;
  skipped: boolean;
  teacherTop1?: number;
  teacherHash?: string;
}

export function jobLogFile(ctx: JobContext, job: Pick<Job, 'id'>): string {
  return join(ctx.resultsDir, 'logs', `${job.id}.log`);
}

export async function executeJob(job: Job, ctx: JobContext, onEvent: (e: TrainEvent) => void): Promise<JobResult> {
  const logFile = jobLogFile(ctx, job);
  mkdirSync(join(ctx.resultsDir, 'logs'), { recursive: true });
  const log = (line: string) => appendFileSync(logFile, `${new Date().toISOString()} ${line}\n`);
  log(`${job.kind === 'teacher' ? job.label : `run ${job.label}`} (pid ${process.pid})`); // a teacher's label starts with 'teacher'
  const common = { ...ctx, log, onEvent: (scope: string, e: TrainEvent) => {
    if (e.type === 'epoch') log(`${scope}: ${epochText(e)}`);
    else if (e.type === 'resume') log(`${scope}: resuming ${e.stage} at epoch ${e.epoch + 1} from its checkpoint`);
    onEvent(e);
  } };
  if (job.kind === 'teacher') {
    const entry = await trainTeacherOnly({ ...job.request, ...common });
    log(`teacher ${entry.spec.arch}: last top1 ${entry.last.top1.toFixed(2)}, sha256 ${entry.sha256}`);
    return { skipped: false, teacherTop1: entry.last.top1, teacherHash: entry.sha256 };
  }
  const { row, skipped } = await runOne({ ...job.request, ...common });
  log(`${skipped ? 'already recorded' : 'recorded'}: best top1 ${row.best_top1.toFixed(2)}, last top1 ${row.last_top1.toFixed(2)}`);
  return { row, skipped };
}
