/**
 * cross-modal.html: a student on another input modality than its RGB teacher (family 'cross-modal':
 * modalitylabeled, modalitykd, suptransfer, crdcrossmodal; hyperparameter `modality` = gray | low8 |
 * low16 | edge). A modality x method table of top-1 over seeds per student, with the RGB references
 * of the same student (its vanilla and kd runs) to show what the modality costs.
 */
import { dv, esc, protocolBanner } from '../html.js';
import { methodPageFile } from '../method-pages.js';
import type { Leaderboard } from '../leaderboard.js';
import type { MethodMeta, Metric, ReportRow } from '../types.js';
import { boardsWith, elementId, hpKey, hpOf, latestRows, methodName, pm, sectionHead, spread, uniq, variantName, type FamilyView, type Spread, type ViewContext } from './common.js';

/** Modalities in the order the cross-modal package lists them; others follow alphabetically. */
export const MODALITY_ORDER = ['gray', 'low8', 'low16', 'edge'];

export interface CrossModalColumn {
  key: string;
  method: string;
  /** Method with its variant (settings other than the modality) and, when a method has several teachers, the teacher. */
  name: string;
}

export interface CrossModalTable {
  student: string;
  modalities: string[];
  columns: CrossModalColumn[];
  /** `${modality}\u0000${column key}` -> top-1 over seeds (with the seeds). */
  cells: Map<string, Spread & { seeds: number[] }>;
  /** The RGB references of the same student: vanilla and kd (default settings). */
  rgb: { vanilla: Spread & { seeds: number[] }; kd: Spread & { seeds: number[] } };
}

const modalityOf = (r: ReportRow) => String(hpOf(r).modality ?? 'unknown');
const rank = (m: string) => (MODALITY_ORDER.includes(m) ? MODALITY_ORDER.indexOf(m) : MODALITY_ORDER.length);
const seeded = (rows: ReportRow[], metric: Metric) => ({ ...spread(rows.map((r) => r[metric])), seeds: rows.map((r) => r.seed).sort((a, b) => a - b) });

export function crossModalView(rows: readonly ReportRow[], metric: Metric = 'last_top1', meta: ReadonlyMap<string, MethodMeta> = new Map()): CrossModalTable[] {
  const latest = latestRows(rows);
  const family = latest.filter((r) => r.family === 'cross-modal');
  return uniq(family.map((r) => r.student)).sort().map((student) => {
    const mine = family.filter((r) => r.student === student);
    const teachersOf = (m: string) => new Set(mine.filter((r) => r.method === m).map((r) => r.teacher)).size;
    const colOf = (r: ReportRow): CrossModalColumn => {
      const variant = variantName(r, meta, ['modality']);
      const name = methodName(r.method, variant) + (teachersOf(r.method) > 1 && r.teacher ? ` (${r.teacher})` : '');
      return { key: JSON.stringify([r.method, hpKey(r, ['modality']), r.teacher]), method: r.method, name };
    };
    const columns = new Map<string, CrossModalColumn>();
    const groups = new Map<string, ReportRow[]>();
    for (const r of mine) {
      const c = colOf(r);
      columns.set(c.key, c);
      const k = `${modalityOf(r)}\u0000${c.key}`;
      groups.set(k, [...(groups.get(k) ?? []), r]);
    }
    const modalities = uniq(mine.map(modalityOf)).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
    const refs = latest.filter((r) => r.family !== 'cross-modal' && r.student === student && variantName(r, meta) === '');
    const teachers = new Set(mine.map((r) => r.teacher).filter(Boolean));
    const kdAll = refs.filter((r) => r.method === 'kd');
    const kd = kdAll.some((r) => teachers.has(r.teacher)) ? kdAll.filter((r) => teachers.has(r.teacher)) : kdAll;
    return {
      student, modalities,
      columns: [...columns.values()].sort((a, b) => a.name.localeCompare(b.name)),
      cells: new Map([...groups].map(([k, g]) => [k, seeded(g, metric)])),
      rgb: { vanilla: seeded(refs.filter((r) => r.method === 'vanilla'), metric), kd: seeded(kd, metric) },
    };
  });
}

function table(id: string, t: CrossModalTable): string {
  const cell = (s: (Spread & { seeds: number[] }) | undefined) => (s && s.n
    ? `<td class="num" data-v="${dv(s.mean)}" title="seeds ${esc(s.seeds.join(', '))}">${pm(s)} <span class="muted small">(${s.n})</span></td>`
    : '<td class="num muted" data-v="">—</td>');
  const body = t.modalities.map((m) => `<tr data-modality="${esc(m)}"><th scope="row">${esc(m)}</th>${t.columns.map((c) => cell(t.cells.get(`${m}\u0000${c.key}`))).join('')}</tr>`);
  const ref = (name: string, s: Spread & { seeds: number[] }) => `<tr class="ref" data-reference="${esc(name)}"><th scope="row">${esc(name)}</th>${cell(s)}</tr>`;
  return `<div class="scroll"><table id="${esc(id)}" class="sortable cross-modal"><thead><tr><th>student modality</th>${t.columns.map((c) => `<th class="num" data-method="${esc(c.method)}"><a href="${esc(methodPageFile(c.method))}">${esc(c.name)}</a></th>`).join('')}</tr></thead>
<tbody>${body.join('\n')}</tbody></table></div>
<table id="${esc(id)}--rgb" class="cross-modal-rgb"><thead><tr><th>RGB reference (student ${esc(t.student)})</th><th class="num">top-1 mean ± std (seeds)</th></tr></thead>
<tbody>${ref('vanilla', t.rgb.vanilla)}
${ref('kd', t.rgb.kd)}</tbody></table>`;
}

async function section(b: Leaderboard, ctx: ViewContext): Promise<string> {
  const tables = crossModalView(b.rows, ctx.metric, ctx.meta);
  return `${sectionHead(b, protocolBanner(b.protocol))}
${tables.map((t) => `<h3>Student ${esc(t.student)}</h3>
${table(elementId('cross-modal', b.id, t.student), t)}`).join('\n')}
<p class="small muted">Cells: top-1 of the student on its modality (the teacher sees RGB), mean ± sample std over seeds (number of seeds in brackets; ± n/a with one seed). RGB references: the same student on RGB images, from labels (vanilla) and distilled from the teacher (kd), under this protocol.</p>`;
}

export const crossModalPage: FamilyView = {
  id: 'cross-modal',
  family: 'cross-modal',
  title: 'Cross-modal distillation: student modality against method',
  blurb: 'modality × method accuracies with the RGB references',
  async render(ctx) {
    const sections: string[] = [];
    for (const b of boardsWith(ctx.boards, 'cross-modal')) sections.push(await section(b, ctx));
    return `<h1>${esc(crossModalPage.title)}</h1>
<p>The teacher sees RGB; the student sees another modality of the same images: gray (luminance), low8 / low16 (downsampled to 8×8 / 16×16 and back), edge (Sobel gradient magnitude of the luminance). modalitylabeled learns the student's modality from labels alone; the others transfer the RGB teacher's knowledge.</p>
${sections.join('\n')}`;
  },
};
