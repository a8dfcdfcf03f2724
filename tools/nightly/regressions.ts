/**
 * The nightly's comparison: per (dataset, protocol, teacher, student, method), tonight's mean
 * accuracy against the previous nightly's 95% Student-t confidence interval of the mean.
 * Statistics come from the report's stats module (one copy in the repo).
 */
import { summarize, type Summary } from '@kdbench/report';

export interface NightRow {
  dataset: string;
  protocol: string;
  teacher: string;
  student: string;
  method: string;
  seed: number;
  best_top1: number;
  last_top1: number;
}

export interface Comparison {
  key: string;
  current: Summary;
  previous: Summary | null;
  /** 'regression' when the current mean is below the previous interval's lower bound. */
  verdict: 'ok' | 'regression' | 'new' | 'no-interval';
}

export function groupKey(r: NightRow): string {
  return `${r.dataset} ${r.protocol} ${r.method} ${r.teacher ? `${r.teacher}->` : ''}${r.student}`;
}

function groups(rows: NightRow[], metric: 'last_top1' | 'best_top1'): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const r of rows) {
    const k = groupKey(r);
    if (!out.has(k)) out.set(k, []);
    out.get(k)!.push(r[metric]);
  }
  return out;
}

export function compareNights(current: NightRow[], previous: NightRow[], metric: 'last_top1' | 'best_top1' = 'last_top1'): Comparison[] {
  const prev = groups(previous, metric);
  return [...groups(current, metric)].map(([key, values]) => {
    const cur = summarize(values);
    const before = prev.get(key);
    if (!before) return { key, current: cur, previous: null, verdict: 'new' as const };
    const p = summarize(before);
    if (!p.ci) return { key, current: cur, previous: p, verdict: 'no-interval' as const };
    return { key, current: cur, previous: p, verdict: cur.mean! < p.ci[0] ? 'regression' as const : 'ok' as const };
  });
}
