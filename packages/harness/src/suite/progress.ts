/**
 * One progress display for a whole suite on stderr: runs done/total, running, failed, teachers and
 * an ETA from the rate of the work done so far. Jobs are weighed by their estimated cost when
 * `weights` gives it (job id -> seconds, suite/cost.ts), else counted alike: a suite that lists its
 * cheap pairs first would otherwise promise an ETA that is hours short. Only work done in this
 * process counts: a job that ends without training (a teacher found in the store, a run that fails
 * at once) leaves the total, and a run resumed from a checkpoint counts from where it resumed.
 * On a terminal the status line is redrawn in place; otherwise it is printed every `everyMs` and
 * on each change.
 */
import type { TrainEvent } from '@kdbench/core';
import { bar, formatDuration } from '../progress.js';

export class SuiteProgress {
  private readonly started = Date.now();
  private readonly tty: boolean;
  /** Running jobs: the share of their training done, and the share done when this process first saw them train. */
  private readonly running = new Map<string, { label: string; fraction: number; from?: number }>();
  /** Weighted work finished in this process. */
  private doneWork = 0;
  /** Weighted work that will not be done here: done before (stored teachers, checkpoints) or left by failed jobs. */
  private droppedWork = 0;
  private timer?: NodeJS.Timeout;
  private lastPlain = 0;
  done = 0;
  failed = 0;
  teachersDone = 0;
  teachersFailed = 0;

  constructor(
    private readonly name: string,
    private readonly runsTotal: number,
    private readonly runsSkipped: number,
    private readonly teachersTotal: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly everyMs = 30_000,
    /** Estimated cost of each pending job by id (runs and teachers); without it, jobs weigh 1. */
    private readonly weights?: ReadonlyMap<string, number>,
  ) {
    this.tty = Boolean(stream.isTTY);
    if (this.tty) this.timer = setInterval(() => this.draw(), 500);
  }

  start(id: string, label: string): void {
    this.running.set(id, { label, fraction: 0 });
    this.draw();
  }

  event(id: string, e: TrainEvent): void {
    const r = this.running.get(id);
    if (!r) return;
    if (e.type === 'epoch') {
      r.fraction = e.totalSteps ? e.doneSteps / e.totalSteps : r.fraction;
      r.from ??= Math.max(0, r.fraction - 1 / e.epochs); // first seen at an epoch's end: it trained that epoch here
    } else if (e.type === 'step') {
      r.fraction = Math.max(r.fraction, ((e.epoch + e.step / e.steps) / e.epochs) * 0.999);
      r.from ??= r.fraction;
    }
    if (!this.tty && Date.now() - this.lastPlain > this.everyMs) this.draw();
  }

  finish(id: string, kind: 'teacher' | 'run', ok: boolean, text: string): void {
    const r = this.running.get(id);
    this.running.delete(id);
    const trained = r?.from !== undefined;
    const from = trained ? r.from! : ok ? 1 : 0; // ended without training: its work is not this process's
    const end = ok ? 1 : Math.max(from, r?.fraction ?? 0);
    const w = this.weightOf(id);
    this.doneWork += w * (end - from);
    this.droppedWork += w * (from + 1 - end);
    if (kind === 'teacher') ok ? this.teachersDone++ : this.teachersFailed++;
    else ok ? this.done++ : this.failed++;
    this.line(text);
    this.draw(true);
  }

  line(text: string): void {
    this.stream.write(this.tty ? `\r\x1b[2K${text}\n` : `${text}\n`);
  }

  private weightOf(id: string): number {
    return this.weights?.get(id) ?? 1;
  }

  /** The share of this process's work done, by weight: finished jobs and the done part of running ones. */
  workDone(): number {
    const jobs = this.runsTotal - this.runsSkipped + this.teachersTotal;
    let total = (this.weights ? [...this.weights.values()].reduce((s, w) => s + w, 0) : jobs) - this.droppedWork;
    let done = this.doneWork;
    for (const [id, r] of this.running) {
      const from = r.from ?? 0;
      total -= this.weightOf(id) * from;
      done += this.weightOf(id) * (r.fraction - from);
    }
    return total > 0 ? Math.min(1, done / total) : 1;
  }

  status(): string {
    const partial = [...this.running.values()].reduce((s, r) => s + r.fraction, 0);
    const f = this.workDone();
    const elapsed = (Date.now() - this.started) / 1000;
    const eta = f > 0 && f < 1 ? (elapsed * (1 - f)) / f : f >= 1 ? 0 : NaN;
    const runsDone = this.done + this.runsSkipped;
    const parts = [
      `suite ${this.name} ${bar(this.runsTotal ? (runsDone + partial) / this.runsTotal : 1)} ${runsDone}/${this.runsTotal} runs done`
        + (this.runsSkipped ? ` (${this.runsSkipped} already recorded)` : ''),
      `${this.running.size} running`,
      `${this.failed} runs failed`,
    ];
    if (this.teachersTotal) parts.push(`teachers ${this.teachersDone}/${this.teachersTotal}${this.teachersFailed ? ` (${this.teachersFailed} failed)` : ''}`);
    parts.push(`elapsed ${formatDuration(elapsed)}`, `ETA ${formatDuration(eta)}`);
    return parts.join(' | ');
  }

  /** The status line with how far each running job is (also in a log, where an hour-long run would otherwise show nothing). */
  private statusWithJobs(): string {
    const running = [...this.running.values()].map((r) => `${r.label} ${Math.round(r.fraction * 100)}%`).join(', ');
    return `${this.status()}${running ? ` | ${running}` : ''}`;
  }

  private draw(force = false): void {
    if (this.tty) {
      const text = this.statusWithJobs();
      const width = this.stream.columns ?? 160;
      this.stream.write(`\r\x1b[2K${text.length > width ? `${text.slice(0, width - 1)}…` : text}`);
    } else if (force || Date.now() - this.lastPlain > this.everyMs) {
      this.lastPlain = Date.now();
      this.stream.write(`${this.statusWithJobs()}\n`);
    }
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.tty) this.stream.write(`\r\x1b[2K${this.status()}\n`);
  }
}
