/**
 * Runs a suite plan: skips runs already in the results, trains every needed teacher (each by one
 * worker, so no two workers train the same teacher) and the runs in N worker processes; a run
 * is ready as soon as its own teachers are stored, while other teachers may still be training. A
 * free worker takes the ready job listed first in the suite file, a teacher counting as listed just
 * before the first run that needs it: the file's pairs finish in its order, and a suite stopped
 * part-way has its first pairs complete. A failed job is reported and the suite goes on; the
 * summary lists the failures.
 */
import { existsSync } from 'node:fs';
import { initEngine } from '@kdbench/engine';
import { readResults } from '../results/arrow-store.js';
import { resultsFile } from '../run.js';
import { jobLogFile, type Job, type JobContext } from './jobs.js';
import { RankedDispatch } from './dispatch.js';
import { ForkPool, InlinePool, type JobPool } from './pool.js';
import { SuiteProgress } from './progress.js';
import { estimateJobs } from './cost.js';
import type { ResultRow } from '../results/schema.js';
import type { SuitePlan } from './suite.js';

export interface SuiteRunOptions {
  plan: SuitePlan;
  ctx: JobContext;
  /** Worker processes; 0 runs the jobs in this process, one after another. */
  workers: number;
  stream?: NodeJS.WriteStream;
  /** Print the status line at least this often when stderr is not a terminal (default 30 s). */
  statusEveryMs?: number;
  /** Methods whose runs are trained again even if recorded (their rows are replaced). */
  rerun?: ReadonlySet<string>;
}

/**
 * The runs still to train: those not recorded, plus every run of a method in `rerun` (marked so
 * that the run trains again and replaces its row).
 */
export function pendingRuns(plan: SuitePlan, recorded: ReadonlySet<string>, rerun: ReadonlySet<string> = new Set()): SuitePlan['runs'] {
  return plan.runs
    .filter((r) => !recorded.has(r.id) || rerun.has(r.request.method))
    .map((r) => (recorded.has(r.id) ? { ...r, request: { ...r.request, rerun: true } } : r));
}

/** The plan's teachers that the given runs need. */
export function neededTeachers(plan: SuitePlan, runs: SuitePlan['runs']): SuitePlan['teachers'] {
  return plan.teachers.filter((t) => runs.some((r) => r.teacherKeys.includes(t.key)));
}

export interface FailedJob {
  label: string;
  id: string;
  error: string;
  /** The job's log file, or '' when there is none (the job never started, or its log could not be written). */
  log: string;
}

export interface SuiteSummary {
  /** Runs of the plan: alreadyRecorded + ran + failed.length. */
  total: number;
  alreadyRecorded: number;
  ran: number;
  /** Failed runs, including those whose teacher could not be trained. */
  failed: FailedJob[];
  /** Teachers the pending runs needed, and those that could not be trained. */
  teachers: number;
  teachersFailed: FailedJob[];
  wallSeconds: number;
}

export async function runSuite(opts: SuiteRunOptions): Promise<SuiteSummary> {
  const { plan, ctx } = opts;
  const started = Date.now();
  const rows = readResults(resultsFile(ctx.resultsDir));
  const recorded = new Set(rows.map((r) => r.run_id));
  const todo = pendingRuns(plan, recorded, opts.rerun);
  const teachers = neededTeachers(plan, todo);
  const weights = opts.workers > 0 ? await jobWeights(todo, teachers, rows, ctx.dataDir) : undefined;
  const progress = new SuiteProgress(plan.suite.name, plan.runs.length, plan.runs.length - todo.length, teachers.length,
    opts.stream, opts.statusEveryMs, weights);
  const summary: SuiteSummary = {
    total: plan.runs.length, alreadyRecorded: plan.runs.length - todo.length, ran: 0, failed: [], teachers: teachers.length, teachersFailed: [], wallSeconds: 0,
  };
  const size = Math.min(opts.workers, Math.max(teachers.length, todo.length));
  const pool: JobPool = opts.workers <= 0 ? new InlinePool(ctx)
    : new ForkPool(size, ctx, (n, pid) => progress.line(`worker ${n}: pid ${pid}`));
  const interrupt = (signal: NodeJS.Signals) => {
    progress.line(`suite ${plan.suite.name}: ${signal}, stopping the workers (finished results are kept; rerun to resume)`);
    pool.kill();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  if (opts.workers > 0) {
    process.once('SIGINT', interrupt);
    process.once('SIGTERM', interrupt);
  }

  const execute = async (job: Job): Promise<boolean> => {
    try {
      const result = await pool.run(job, (e) => progress.event(job.id, e), (pid) => {
        progress.start(job.id, job.label);
        progress.line(`start ${job.label} [${job.kind} ${job.id}] on pid ${pid}`);
      });
      const text = job.kind === 'teacher'
        ? `done  ${job.label}: top1 ${result.teacherTop1?.toFixed(2)} (${result.teacherHash?.slice(0, 12)})`
        : `done  ${job.label}: best top1 ${result.row!.best_top1.toFixed(2)}, last ${result.row!.last_top1.toFixed(2)} (${result.row!.wall_seconds.toFixed(1)} s) [run ${job.id}]`;
      progress.finish(job.id, job.kind, true, text);
      if (job.kind === 'run') summary.ran++;
      return true;
    } catch (e) {
      const error = (e as Error).message;
      const log = existsSync(jobLogFile(ctx, job)) ? jobLogFile(ctx, job) : '';
      progress.finish(job.id, job.kind, false, `FAILED ${job.label} [${job.kind} ${job.id}]: ${error.split('\n')[0]}${log ? ` (log: ${log})` : ''}`);
      (job.kind === 'teacher' ? summary.teachersFailed : summary.failed).push({ label: job.label, id: job.id, error, log });
      return false;
    }
  };

  const dispatch = new RankedDispatch(Math.max(1, size));
  const rankOf = new Map(plan.runs.map((r, i) => [r.id, i]));
  /** A teacher ranks just before the first pending run that needs it. */
  const teacherRank = (key: string) => Math.min(...todo.filter((r) => r.teacherKeys.includes(key)).map((r) => rankOf.get(r.id)!)) - 0.5;
  try {
    // a run is ready as soon as its own teachers are stored
    const teacherOk = new Map(teachers.map((t) => [t.key, dispatch.submit(teacherRank(t.key),
      () => execute({ id: teacherJobId(t.key), kind: 'teacher', label: t.label, request: t.request }))]));
    await Promise.all(todo.map(async (r) => {
      const ok = await Promise.all(r.teacherKeys.map((k) => teacherOk.get(k) ?? true));
      const missing = r.teacherKeys.filter((_, i) => !ok[i]);
      if (missing.length > 0) {
        const error = `its teacher${missing.length > 1 ? 's' : ''} (${missing.map((k) => plan.teachers.find((t) => t.key === k)?.request.teacher ?? k).join(', ')}) could not be trained`;
        progress.finish(r.id, 'run', false, `FAILED ${r.label} [run ${r.id}]: ${error}`);
        summary.failed.push({ label: r.label, id: r.id, error, log: '' });
        return;
      }
      await dispatch.submit(rankOf.get(r.id)!, () => execute({ id: r.id, kind: 'run', label: r.label, request: r.request }));
    }));
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
    await pool.close();
    progress.close();
  }
  summary.wallSeconds = (Date.now() - started) / 1000;
  return summary;
}

/**
 * The pending jobs' estimated seconds by job id, for the progress line's ETA (suite/cost.ts).
 * Counting MACs needs a tf backend: the CPU one, set in this parent process only when the jobs
 * train in worker processes (run in this process, they would see it).
 */
async function jobWeights(todo: SuitePlan['runs'], teachers: SuitePlan['teachers'], rows: ResultRow[], dataDir: string): Promise<Map<string, number>> {
  await initEngine({ backend: 'cpu' });
  const estimate = estimateJobs(todo, teachers, rows, dataDir);
  return new Map([...estimate.runs, ...[...estimate.teachers].map(([key, s]) => [teacherJobId(key), s] as const)]);
}

const teacherJobId = (key: string) => `teacher-${shortHash(key)}`;

function shortHash(text: string): string {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return (h >>> 0).toString(16).padStart(8, '0');
}
