/**
 * One progress display for a whole suite on stderr: runs done/total, running, failed, teachers and
 * an ETA from the work done so far (finished jobs plus the fraction of running ones). Jobs are
 * weighed by their estimated cost when `weights` gives it (job id -> cost, suite/cost.ts), else
 * counted alike: a suite that lists its cheap pairs first would otherwise promise an ETA that is
 * hours short. On a terminal the status line is redrawn in place; otherwise it is printed every
 * `everyMs` and on each change.
 */
import type { TrainEvent } from '@kdbench/core';
import { bar, formatDuration } from '../progress.js';

export class SuiteProgress {
  private readonly started = Date.now();
  private readonly tty: boolean;
  private readonly running = new Map<string, { label: string; fraction: number }>();
  /** Weight of the finished jobs (done or failed). */
  private finishedWeight = 0;
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
    if (e.type === 'epoch') r.fraction = e.totalSteps ? e.doneSteps / e.totalSteps : r.fraction;
    else if (e.type === 'step') r.fraction = Math.max(r.fraction, ((e.epoch + e.step / e.steps) / e.epochs) * 0.999);
    if (!this.tty && Date.now() - this.lastPlain > this.everyMs) this.draw();
  }

  finish(id: string, kind: 'teacher' | 'run', ok: boolean, text: string): void {
    this.running.delete(id);
    this.finishedWeight += this.weightOf(id);
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

  /** The share of the pending work done: finished jobs and the done fraction of running ones, by weight. */
  workDone(): number {
    const jobs = this.runsTotal - this.runsSkipped + this.teachersTotal;
    const total = this.weights ? [...this.weights.values()].reduce((s, w) => s + w, 0) : jobs;
    const partial = [...this.running].reduce((s, [id, r]) => s + this.weightOf(id) * r.fraction, 0);
    return total > 0 ? Math.min(1, (this.finishedWeight + partial) / total) : 1;
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

  private draw(force = false): void {
    if (this.tty) {
      const running = [...this.running.values()].map((r) => `${r.label} ${Math.round(r.fraction * 100)}%`).join(', ');
      const text = `${this.status()}${running ? ` | ${running}` : ''}`;
      const width = this.stream.columns ?? 160;
      this.stream.write(`\r\x1b[2K${text.length > width ? `${text.slice(0, width - 1)}…` : text}`);
    } else if (force || Date.now() - this.lastPlain > this.everyMs) {
      this.lastPlain = Date.now();
      this.stream.write(`${this.status()}\n`);
    }
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.tty) this.stream.write(`\r\x1b[2K${this.status()}\n`);
  }
}
