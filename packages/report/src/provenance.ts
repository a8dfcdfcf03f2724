/**
 * Where a row's number came from: the commit, whether the checkout had uncommitted changes (and a
 * hash of them, when the run recorded one), the TensorFlow.js backend and the kernel set. Rows
 * written since the harness records `details.provenance` carry all of it; older rows have it in
 * `git_commit` ('<sha>' or '<sha>+dirty', 'unknown' outside a git checkout) and `backend` (the
 * kernel set: 'wasm', 'wasm+native', 'cpu', ...), and the diff hash is unknown.
 * A board numbers its distinct provenances P1, P2, ... (most runs first) and warns when it mixes them.
 */
import type { ReportRow } from './types.js';

export interface Provenance {
  /** The commit (12 hex digits), or 'unknown'. */
  commit: string;
  dirty: boolean;
  /** sha256 prefix of the uncommitted changes (`git diff HEAD`); null when clean or not recorded. */
  diff: string | null;
  /** The TensorFlow.js backend ('wasm', 'cpu', 'tensorflow'). */
  backend: string;
  /** The kernels it ran with: the backend, plus '+native' with the native kernels. */
  kernels: string;
}

export function provenanceOf(r: Pick<ReportRow, 'git_commit' | 'backend' | 'details'>): Provenance {
  let recorded: Partial<Provenance> = {};
  try {
    const d = JSON.parse(r.details) as { provenance?: Partial<Provenance> };
    if (d && typeof d.provenance === 'object' && d.provenance) recorded = d.provenance;
  } catch {
    /* rows without JSON details */
  }
  const [sha, flag] = (r.git_commit || 'unknown').split('+');
  const kernels = typeof recorded.kernels === 'string' ? recorded.kernels : r.backend;
  return {
    commit: typeof recorded.commit === 'string' ? recorded.commit : sha!,
    dirty: typeof recorded.dirty === 'boolean' ? recorded.dirty : flag === 'dirty',
    diff: typeof recorded.diff === 'string' ? recorded.diff : null,
    backend: typeof recorded.backend === 'string' ? recorded.backend : kernels.split('+')[0]!,
    kernels,
  };
}

export const provenanceKey = (p: Provenance) => `${p.commit}${p.dirty ? `+dirty${p.diff ? `:${p.diff}` : ''}` : ''}|${p.kernels}`;

/** One line: `c24fd52f01b2 +uncommitted changes · wasm+native`. */
export function provenanceText(p: Provenance): string {
  const code = p.commit === 'unknown' ? 'commit unknown' : p.commit;
  const dirty = p.dirty ? ` +uncommitted changes${p.diff ? ` (diff ${p.diff})` : ' (diff not recorded)'}` : '';
  return `${code}${dirty} · ${p.kernels}`;
}

export interface ProvenanceSet extends Provenance {
  /** P1, P2, ... */
  tag: string;
  key: string;
  runs: number;
}

/** The distinct provenances of rows, most runs first (then by commit), tagged P1, P2, ... */
export function provenanceSets(rows: readonly ReportRow[]): ProvenanceSet[] {
  const by = new Map<string, { p: Provenance; runs: number }>();
  for (const r of rows) {
    const p = provenanceOf(r);
    const k = provenanceKey(p);
    by.set(k, { p, runs: (by.get(k)?.runs ?? 0) + 1 });
  }
  return [...by].sort(([ka, a], [kb, b]) => b.runs - a.runs || ka.localeCompare(kb)).map(([key, { p, runs }], i) => ({ ...p, tag: `P${i + 1}`, key, runs }));
}

/** What a board's rows mix, one phrase each (empty when they share one provenance). */
export function provenanceMix(sets: readonly ProvenanceSet[]): string[] {
  const out: string[] = [];
  const commits = [...new Set(sets.map((s) => s.commit))];
  if (commits.length > 1) {
    const unknown = commits.includes('unknown') ? ', one of them unknown' : '';
    out.push(`${commits.length} commits${unknown}`);
  }
  const dirty = sets.filter((s) => s.dirty).reduce((a, s) => a + s.runs, 0);
  const total = sets.reduce((a, s) => a + s.runs, 0);
  if (dirty > 0 && dirty < total) out.push(`${dirty} of ${total} runs from checkouts with uncommitted changes`);
  const kernels = [...new Set(sets.map((s) => s.kernels))].sort();
  if (kernels.length > 1) out.push(`${kernels.length} kernel sets (${kernels.join(', ')})`);
  return out;
}
