/** The teacher store's training lease: one trainer per teacher across processes; dead holders are taken over. */
import { mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { TeacherStore, getProtocol, type TeacherSpec } from '@kdbench/core';
import { initEngine } from '@kdbench/engine';
import { createModel } from '@kdbench/models';
import { ensureTeacher } from '../src/run.js';

const spec: TeacherSpec = {
  arch: 'resnet8', dataset: 'cifar10', numClasses: 10, protocol: 'smoke', widthFactor: 0.25, epochs: 1, seed: 0, split: 'test', trainSize: 10,
};
const store = () => new TeacherStore(join(mkdtempSync(join(tmpdir(), 'kdb-lease-')), 'teachers'));

describe('teacher training lease', () => {
  it('is exclusive while its holder lives, and free again once released', () => {
    const s = store();
    expect(s.tryLease(spec)).toBe(true);
    expect(s.tryLease(spec)).toBe(false);
    s.releaseLease(spec);
    expect(s.tryLease(spec)).toBe(true);
    s.releaseLease(spec);
  });

  it('is taken over from a holder that died on this host, but not from a live one', async () => {
    const s = store();
    s.tryLease(spec);
    s.releaseLease(spec);
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)']);
    writeFileSync(s.leaseFile(spec), `${hostname()} ${child.pid}`);
    expect(s.tryLease(spec)).toBe(false); // a live process on this host holds it
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(s.tryLease(spec)).toBe(true); // its holder is gone
    s.releaseLease(spec);
    writeFileSync(s.leaseFile(spec), 'another-machine 12345');
    expect(s.tryLease(spec, 60_000)).toBe(false); // another machine: only staleness breaks it
    const anHourAgo = new Date(Date.now() - 3_600_000);
    utimesSync(s.leaseFile(spec), anHourAgo, anHourAgo); // its holder stopped renewing it an hour ago
    expect(s.tryLease(spec, 60_000)).toBe(true);
    s.releaseLease(spec);
  });

  it('makes ensureTeacher wait for the holder and return its teacher instead of training a second one', async () => {
    await initEngine({ backend: 'cpu' });
    const s = store();
    const protocol = getProtocol('smoke');
    expect(s.tryLease(spec)).toBe(true); // "another worker" is training it
    const lines: string[] = [];
    const waiting = ensureTeacher(
      s, { teacher: 'resnet8', teacherSeed: 0 }, { dataset: 'cifar10', protocol: { ...protocol, widthFactor: 0.25, teacherEpochs: 1 } },
      { numClasses: 10 } as never, { description: 'test', train: { n: 10 } } as never, { backend: 'cpu' } as never,
      (l) => lines.push(l), { pollMs: 20 },
    );
    await new Promise((r) => setTimeout(r, 100));
    const model = createModel('resnet8', { numClasses: 10, seed: 0, widthFactor: 0.25 });
    const saved = await s.save(spec, model, { best: { top1: 50, top5: 90, epoch: 1 }, last: { top1: 50, top5: 90 }, backend: 'cpu', wallSeconds: 1 });
    s.releaseLease(spec);
    const got = await waiting;
    expect(got.sha256).toBe(saved.sha256);
    expect(lines.some((l) => /being trained by .* waiting for it/.test(l))).toBe(true);
    expect(lines.some((l) => /training it/.test(l))).toBe(false);
    model.dispose();
  });
});
