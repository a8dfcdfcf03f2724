import { describe, expect, it } from 'vitest';
import { RankedDispatch } from '../src/suite/dispatch.js';

/** A task that records its start and ends when `release(name)` is called. */
function tasks() {
  const started: string[] = [];
  const ends = new Map<string, () => void>();
  let running = 0;
  let most = 0;
  const task = (name: string, fail = false) => () => {
    started.push(name);
    most = Math.max(most, ++running);
    return new Promise<string>((resolve, reject) => ends.set(name, () => {
      running--;
      if (fail) reject(new Error(`${name} failed`));
      else resolve(name);
    }));
  };
  const turn = () => new Promise((r) => setImmediate(r));
  const release = async (name: string) => {
    ends.get(name)!();
    await turn();
    await turn();
  };
  return { started, task, release, turn, most: () => most };
}

describe('RankedDispatch: a free slot takes the ready task of lowest rank', () => {
  it('tasks that become ready while the slot is busy run by rank, ties in submission order', async () => {
    const t = tasks();
    const d = new RankedDispatch(1);
    const done = [d.submit(5, t.task('a'))];
    await t.turn();
    expect(t.started).toEqual(['a']);
    done.push(d.submit(3, t.task('b')), d.submit(1, t.task('c')), d.submit(1, t.task('d')));
    await t.turn();
    expect(t.started).toEqual(['a']);
    for (const name of ['a', 'c', 'd']) await t.release(name);
    expect(t.started).toEqual(['a', 'c', 'd', 'b']);
    await t.release('b');
    expect(await Promise.all(done)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('tasks submitted in one turn are ranked together before any starts', async () => {
    const t = tasks();
    const d = new RankedDispatch(1);
    const done = [d.submit(2, t.task('late')), d.submit(-1, t.task('teacher')), d.submit(0, t.task('first'))];
    await t.turn();
    expect(t.started).toEqual(['teacher']);
    await t.release('teacher');
    await t.release('first');
    await t.release('late');
    expect(t.started).toEqual(['teacher', 'first', 'late']);
    await Promise.all(done);
  });

  it('a task submitted when another settles (a run whose teacher just finished) goes before later-ranked waiting tasks', async () => {
    const t = tasks();
    const d = new RankedDispatch(1);
    // the suite's shape: teacher (rank 0.5), its run (rank 1, submitted once the teacher settles),
    // a teacher-free run listed after both (rank 2) waiting for the slot
    const teacher = d.submit(0.5, t.task('teacher'));
    const run = (async () => {
      const ok = await Promise.all([teacher]); // as the suite runner waits for a run's teachers
      return ok && d.submit(1, t.task('run'));
    })();
    const later = d.submit(2, t.task('later'));
    await t.turn();
    expect(t.started).toEqual(['teacher']);
    await t.release('teacher');
    expect(t.started).toEqual(['teacher', 'run']);
    await t.release('run');
    await t.release('later');
    expect(await Promise.all([run, later])).toEqual(['run', 'later']);
  });

  it('never runs more than its slots; a failed task frees its slot and rejects its own promise only', async () => {
    const t = tasks();
    const d = new RankedDispatch(2);
    const failed = expect(d.submit(0, t.task('a', true))).rejects.toThrow('a failed');
    const rest = [1, 2, 3].map((i) => d.submit(i, t.task(`r${i}`)));
    await t.turn();
    expect(t.started).toEqual(['a', 'r1']);
    await t.release('a');
    await failed;
    expect(t.started).toEqual(['a', 'r1', 'r2']);
    for (const name of ['r1', 'r2']) await t.release(name);
    await t.release('r3');
    expect(await Promise.all(rest)).toEqual(['r1', 'r2', 'r3']);
    expect(t.most()).toBe(2);
  });

  it('refuses fewer than one slot in one line', () => {
    expect(() => new RankedDispatch(0)).toThrow('RankedDispatch: slots must be at least 1, got 0');
  });
});
