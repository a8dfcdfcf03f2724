/**
 * Peak resident memory of a command and every process it starts (suite workers included): polls
 * /proc every 200 ms, sums the resident sets of the process tree, and prints the peak of the sum,
 * each process's own peak, and the command's exit code (Linux only).
 *
 *   npx tsx benchmarks/engine/peak-memory.ts -- npx kdbench suite run benchmarks/smoke.yaml --workers 2 --results /tmp/r --data-dir ../shared/datasets
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';

const args = process.argv.slice(process.argv.indexOf('--') + 1);
if (process.argv.indexOf('--') < 0 || args.length === 0) {
  console.error('usage: npx tsx benchmarks/engine/peak-memory.ts -- COMMAND [ARGS...]');
  process.exit(2);
}
const pageKb = 4;

/** pid -> [ppid, rss in kB, command name] for every readable process. */
function processes(): Map<number, [number, number, string]> {
  const out = new Map<number, [number, number, string]>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const name = stat.slice(stat.indexOf('(') + 1, close);
      const fields = stat.slice(close + 2).split(' ');
      out.set(Number(entry), [Number(fields[1]), Number(fields[21]) * pageKb, name]);
    } catch { /* exited meanwhile */ }
  }
  return out;
}

const child = spawn(args[0]!, args.slice(1), { stdio: 'inherit' });
const peaks = new Map<number, { name: string; kb: number }>();
let peakTotal = 0;
const timer = setInterval(() => {
  const all = processes();
  const tree = new Set([child.pid!]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, [ppid]] of all) if (tree.has(ppid) && !tree.has(pid)) (tree.add(pid), (grew = true));
  }
  let total = 0;
  for (const pid of tree) {
    const p = all.get(pid);
    if (!p) continue;
    total += p[1];
    const seen = peaks.get(pid);
    if (!seen || p[1] > seen.kb) peaks.set(pid, { name: p[2], kb: p[1] });
  }
  peakTotal = Math.max(peakTotal, total);
}, 200);

child.on('exit', (code) => {
  clearInterval(timer);
  const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;
  const big = [...peaks.entries()].filter(([, p]) => p.kb > 50 * 1024).sort((a, b) => b[1].kb - a[1].kb);
  console.log(`\npeak resident memory of the process tree: ${mb(peakTotal)} (sampled every 200 ms)`);
  for (const [pid, p] of big) console.log(`  pid ${pid} ${p.name}: peak ${mb(p.kb)}`);
  console.log(`exit code ${code}`);
  process.exit(code ?? 1);
});
