/**
 * Entry of a suite worker process (forked by the suite runner through bin/kdbench-worker.js):
 * receives one job at a time over IPC, runs it, and reports progress events and the outcome.
 * Exits when the parent disconnects or says so.
 */
import type { TrainEvent } from '@kdbench/core';
import { pinGitState } from '../git.js';
import { executeJob, type Job, type JobContext } from './jobs.js';

export type ToWorker = { type: 'job'; job: Job; ctx: JobContext } | { type: 'exit' };
export type FromWorker =
  | { type: 'ready' }
  | { type: 'event'; jobId: string; event: TrainEvent }
  | { type: 'done'; jobId: string; result: import('./jobs.js').JobResult }
  | { type: 'failed'; jobId: string; error: string };

const send = (m: FromWorker) => process.send!(m);

process.on('disconnect', () => process.exit(0));
process.on('message', (msg: ToWorker) => {
  if (msg.type === 'exit') {
    process.disconnect();
    return;
  }
  const { job, ctx } = msg;
  let lastStep = 0;
  const onEvent = (event: TrainEvent) => {
    if (event.type === 'step') {
      const now = Date.now();
      if (now - lastStep < 500) return;
      lastStep = now;
    }
    send({ type: 'event', jobId: job.id, event });
  };
  executeJob(job, ctx, onEvent).then(
    (result) => send({ type: 'done', jobId: job.id, result }),
    (e: unknown) => send({ type: 'failed', jobId: job.id, error: e instanceof Error ? (e.stack ?? e.message) : String(e) }),
  );
});
pinGitState(); // the rows of every job record the code loaded now, even if the checkout changes later
send({ type: 'ready' });
