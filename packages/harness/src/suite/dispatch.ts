/**
 * Which job a free worker takes next: the ready job of lowest rank (ties in the order they became
 * ready), at most `slots` at a time. A suite ranks its runs in its file's order (a teacher just
 * before the first run that needs it), so a run whose teacher finishes late still goes before the
 * runs listed after it, also when the teacher's own slot is the one that frees.
 */
export class RankedDispatch {
  private readonly ready: { rank: number; order: number; start: () => void }[] = [];
  private running = 0;
  private submitted = 0;

  constructor(private readonly slots: number) {
    if (!(slots >= 1)) throw new Error(`RankedDispatch: slots must be at least 1, got ${slots}`);
  }

  /** Runs `task` when a slot is free and no ready task of lower rank waits; settles as the task does. */
  submit<T>(rank: number, task: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        this.running++;
        task().then(resolve, reject).finally(() => {
          this.running--;
          // wait a turn, so that the tasks this one's end makes ready (a run whose teacher it
          // trained) are submitted and ranked before the slot is given away
          setImmediate(() => this.pump());
        });
      };
      this.ready.push({ rank, order: this.submitted++, start });
      this.ready.sort((a, b) => a.rank - b.rank || a.order - b.order);
      // wait a turn, so that the tasks submitted in this one are ranked together
      setImmediate(() => this.pump());
    });
  }

  private pump(): void {
    while (this.running < this.slots && this.ready.length > 0) this.ready.shift()!.start();
  }
}
