/**
 * Worker processes for suite jobs: N children forked from bin/kdbench-worker.js, one job at a time
 * each. A child that dies (killed, out of memory) fails its current job and is replaced while jobs
 * remain; nothing it had finished is lost (results are appended atomically by the child itself).
 */
import os from 'node:os';
import { fork, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TrainEvent } from '@kdbench/core';
import { executeJob, type Job, type JobContext, type JobResult } from './jobs.js';
import type { FromWorker, ToWorker } from './worker.js';

export const WORKER_ENTRY = fileURLToPath(new URL('../../bin/kdbench-worker.js', import.meta.url));

export interface JobPool {
  run(job: Job, onEvent: (e: TrainEvent) => void, onStart?: (pid: number) => void): Promise<JobResult>;
  close(): Promise<void>;
  /** Ends every child at once (SIGTERM): the suite was interrupted. */
  kill(): void;
}

/** Runs jobs one after another in this process (tests, --workers 0). */
export class InlinePool implements JobPool {
  private chain: Promise<unknown> = Promise.resolve();
  constructor(private readonly ctx: JobContext) {}
  run(job: Job, onEvent: (e: TrainEvent) => void, onStart?: (pid: number) => void): Promise<JobResult> {
    const next = this.chain.then(() => {
      onStart?.(process.pid);
      return executeJob(job, this.ctx, onEvent);
    });
    this.chain = next.catch(() => undefined);
    return next;
  }
  async close(): Promise<void> {
    await this.chain;
  }
  kill(): void {}
}

interface Pending {
  job: Job;
  onEvent: (e: TrainEvent) => void;
  onStart?: (pid: number) => void;
  resolve: (r: JobResult) => void;
  reject: (e: Error) => void;
}

interface Worker {
  child: ChildProcess;
  n: number;
  ready: boolean;
  current?: Pending;
  exited: Promise<void>;
}

/**
 * A worker's environment: the native kernels' BLAS threads split the cores between the workers
 * (OpenBLAS threads spin while waiting: oversubscribed, they slow everyone down), unless the user
 * chose KDBENCH_NATIVE_THREADS.
 */
export function workerEnv(workers: number, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  if (env.KDBENCH_NATIVE_THREADS) return env;
  const cores = os.availableParallelism?.() ?? os.cpus().length;
  return { ...env, KDBENCH_NATIVE_THREADS: String(Math.max(1, Math.floor(cores / Math.max(1, workers)))) };
}

export class ForkPool implements JobPool {
  private readonly queue: Pending[] = [];
  private readonly workers = new Set<Worker>();
  private spawned = 0;
  private closing = false;

  constructor(
    private readonly size: number,
    private readonly ctx: JobContext,
    private readonly onWorker: (n: number, pid: number) => void = () => {},
    private readonly entry = WORKER_ENTRY,
  ) {}

  run(job: Job, onEvent: (e: TrainEvent) => void, onStart?: (pid: number) => void): Promise<JobResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ job, onEvent, onStart, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    for (const w of this.workers) {
      if (!this.queue.length) return;
      if (w.ready && !w.current) this.assign(w, this.queue.shift()!);
    }
    const starting = [...this.workers].filter((w) => !w.ready).length;
    while (!this.closing && this.workers.size < this.size && this.queue.length > starting) this.spawn();
  }

  private assign(w: Worker, p: Pending): void {
    w.current = p;
    p.onStart?.(w.child.pid!);
    w.child.send({ type: 'job', job: p.job, ctx: this.ctx } satisfies ToWorker);
  }

  private spawn(): void {
    const n = ++this.spawned;
    const logDir = join(this.ctx.resultsDir, 'logs');
    mkdirSync(logDir, { recursive: true });
    const out = openSync(join(logDir, `worker-${n}.log`), 'a');
    const child = fork(this.entry, [], { stdio: ['ignore', out, out, 'ipc'], env: workerEnv(this.size) });
    closeSync(out);
    let exitResolve!: () => void;
    const w: Worker = { child, n, ready: false, exited: new Promise((r) => (exitResolve = r)) };
    this.workers.add(w);
    this.onWorker(n, child.pid!);
    child.on('message', (m: FromWorker) => {
      if (m.type === 'ready') {
        w.ready = true;
        this.pump();
        return;
      }
      const p = w.current;
      if (!p || p.job.id !== m.jobId) return;
      if (m.type === 'event') {
        p.onEvent(m.event);
      } else {
        w.current = undefined;
        if (m.type === 'done') p.resolve(m.result);
        else p.reject(new Error(m.error));
        setImmediate(() => this.pump()); // after the job's outcome is reported
      }
    });
    child.on('exit', (code, signal) => {
      this.workers.delete(w);
      exitResolve();
      const p = w.current;
      w.current = undefined;
      if (p) p.reject(new Error(`worker ${n} (pid ${child.pid}) exited with ${signal ?? `code ${code}`} during ${p.job.label}`));
      if (!w.ready && !p && !this.closing && this.queue.length) {
        // a worker that dies before it is ready fails the next job instead of respawning forever
        const q = this.queue.shift()!;
        q.reject(new Error(`worker ${n} (pid ${child.pid}) exited with ${signal ?? `code ${code}`} before it was ready; see ${join(logDir, `worker-${n}.log`)}`));
      }
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    const waits = [...this.workers].map((w) => {
      if (w.child.connected) w.child.send({ type: 'exit' } satisfies ToWorker);
      return w.exited;
    });
    await Promise.all(waits);
  }

  kill(): void {
    this.closing = true;
    for (const w of this.workers) w.child.kill('SIGTERM');
  }
}
