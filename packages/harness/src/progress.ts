/**
 * Progress for long work: one status line (redrawn in place on a terminal, printed per epoch
 * otherwise) with the run, stage, epoch, step, latest losses and an ETA.
 */
import type { TrainEvent } from '@kdbench/core';

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${pad(m)}:${pad(s % 60)}`;
}

export function bar(fraction: number, width = 20): string {
  const f = Math.max(0, Math.min(1, fraction));
  const full = Math.round(f * width);
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}]`;
}

/** One finished epoch: stage, epoch, mean losses, accuracy (when evaluated) and seconds. */
export function epochText(e: Extract<TrainEvent, { type: 'epoch' }>): string {
  const r = e.record;
  const losses = Object.entries(r.losses).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(' ');
  const acc = r.eval ? ` | top1 ${r.eval.top1.toFixed(2)} top5 ${r.eval.top5.toFixed(2)}` : '';
  return `${r.stage} epoch ${r.epoch}/${e.epochs} | ${losses}${acc} | ${r.seconds.toFixed(1)} s`;
}

export class RunProgress {
  private readonly tty: boolean;
  private readonly started = Date.now();
  private totalSteps = 0;
  private doneSteps = 0;
  private lastDraw = 0;

  constructor(
    private readonly title: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.tty = Boolean(stream.isTTY);
  }

  onEvent = (e: TrainEvent): void => {
    if (e.type === 'resume') {
      this.line(`${this.title}: resuming ${e.stage} at epoch ${e.epoch + 1} from its checkpoint`);
    } else if (e.type === 'step') {
      this.doneSteps++;
      if (this.tty && Date.now() - this.lastDraw > 250) {
        this.lastDraw = Date.now();
        this.draw(`${e.stage} epoch ${e.epoch + 1}/${e.epochs} step ${e.step}/${e.steps}`);
      }
    } else {
      this.totalSteps = e.totalSteps;
      this.doneSteps = e.doneSteps;
      this.line(`${this.title} ${bar(e.doneSteps / e.totalSteps)} ${epochText(e)} | ETA ${formatDuration(this.eta(e.elapsed))}`);
    }
  };

  private eta(elapsed: number): number {
    if (this.doneSteps === 0 || this.totalSteps === 0) return NaN;
    return (elapsed / this.doneSteps) * (this.totalSteps - this.doneSteps);
  }

  private draw(status: string): void {
    const elapsed = (Date.now() - this.started) / 1000;
    const frac = this.totalSteps ? this.doneSteps / this.totalSteps : 0;
    this.stream.write(`\r\x1b[2K${this.title} ${bar(frac)} ${status} | ETA ${formatDuration(this.totalSteps ? this.eta(elapsed) : NaN)}`);
  }

  line(text: string): void {
    this.stream.write(this.tty ? `\r\x1b[2K${text}\n` : `${text}\n`);
  }
}
