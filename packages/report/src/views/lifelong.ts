/**
 * lifelong.html: class-incremental learning (family 'lifelong': finetune, joint, lwf, icarl). The
 * methods report, after each task k of T, `acc_after_task_<k>` (top-1 on every class seen so far)
 * and `acc_task_<j>_after_task_<k>` (on task j's classes), and at the end
 * `average_incremental_accuracy`, `last_accuracy` and `forgetting` (mean over the tasks before the
 * last of the best accuracy a task had before the final task minus its final accuracy). The page:
 * those three per method over seeds, forgetting per task, and the seen-class accuracy curve.
 */
import { renderSvg } from '../charts.js';
import { dv, esc, protocolBanner } from '../html.js';
import { methodPageFile } from '../method-pages.js';
import type { Leaderboard } from '../leaderboard.js';
import type { MethodMeta, Metric, ReportRow } from '../types.js';
import { boardsWith, elementId, extraOf, figure, hpKey, latestRows, methodName, pm, round, sectionHead, spread, variantName, type FamilyView, type Spread } from './common.js';

export interface LifelongViewRow {
  method: string;
  name: string;
  teacher: string;
  student: string;
  seeds: number[];
  /** Number of tasks (the largest k of acc_after_task_<k>). */
  tasks: number;
  aia: Spread;
  last: Spread;
  forgetting: Spread;
  /** The network's final top-1 (the row's accuracy column). */
  top1: Spread;
  /** Mean seen-class accuracy after task k (index k - 1). */
  afterTask: Spread[];
  /** Forgetting of task j (index j - 1, j < T) from the per-task accuracies: max over k < T of acc_task_j_after_task_k, minus acc_task_j_after_task_T; mean over seeds. */
  taskForgetting: Spread[];
}

const AFTER = /^acc_after_task_(\d+)$/;

/** Forgetting of each task before the last from one run's per-task accuracies (null where a number is missing). */
export function taskForgetting(extra: Record<string, number>, T: number): (number | null)[] {
  const out: (number | null)[] = [];
  for (let j = 1; j < T; j++) {
    const final = extra[`acc_task_${j}_after_task_${T}`];
    const before = Array.from({ length: T - j }, (_, i) => extra[`acc_task_${j}_after_task_${j + i}`]).filter((x): x is number => typeof x === 'number');
    out.push(typeof final === 'number' && before.length ? Math.max(...before) - final : null);
  }
  return out;
}

export function lifelongView(rows: readonly ReportRow[], metric: Metric = 'last_top1', meta: ReadonlyMap<string, MethodMeta> = new Map()): LifelongViewRow[] {
  const groups = new Map<string, ReportRow[]>();
  for (const r of latestRows(rows.filter((x) => x.family === 'lifelong'))) {
    const k = JSON.stringify([r.method, hpKey(r), r.teacher, r.student]);
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  const out = [...groups.values()].map((g): LifelongViewRow => {
    const first = g[0]!;
    const extras = g.map(extraOf);
    const tasks = Math.max(0, ...extras.flatMap((e) => Object.keys(e).map((k) => Number(AFTER.exec(k)?.[1] ?? 0))));
    const forget = extras.map((e) => taskForgetting(e, tasks));
    return {
      method: first.method, name: methodName(first.method, variantName(first, meta)), teacher: first.teacher, student: first.student,
      seeds: g.map((r) => r.seed).sort((a, b) => a - b), tasks,
      aia: spread(extras.map((e) => e.average_incremental_accuracy)),
      last: spread(extras.map((e) => e.last_accuracy)),
      forgetting: spread(extras.map((e) => e.forgetting)),
      top1: spread(g.map((r) => r[metric])),
      afterTask: Array.from({ length: tasks }, (_, k) => spread(extras.map((e) => e[`acc_after_task_${k + 1}`]))),
      taskForgetting: Array.from({ length: Math.max(0, tasks - 1) }, (_, j) => spread(forget.map((f) => f[j]))),
    };
  });
  return out.sort((a, b) => (b.aia.mean ?? -Infinity) - (a.aia.mean ?? -Infinity) || a.name.localeCompare(b.name) || a.student.localeCompare(b.student));
}

const cell = (s: Spread) => `<td class="num" data-v="${dv(s.mean)}">${pm(s)}</td>`;

function summaryTable(id: string, rows: LifelongViewRow[], multiStudent: boolean): string {
  const body = rows.map((r) => `<tr data-method="${esc(r.method)}"><td><a href="${esc(methodPageFile(r.method))}">${esc(r.name)}</a></td>${multiStudent ? `<td>${esc(r.student)}</td>` : ''}<td class="num">${r.tasks}</td><td class="num" title="seeds ${esc(r.seeds.join(', '))}">${r.seeds.length}</td>
${cell(r.aia)}${cell(r.last)}${cell(r.forgetting)}${cell(r.top1)}</tr>`);
  return `<div class="scroll"><table id="${esc(id)}" class="sortable lifelong"><thead><tr><th>method</th>${multiStudent ? '<th>student</th>' : ''}<th class="num">tasks</th><th class="num">seeds</th><th class="num">average incremental accuracy</th><th class="num">last accuracy</th><th class="num">forgetting</th><th class="num">network top-1 (last_top1)</th></tr></thead>
<tbody>${body.join('\n')}</tbody></table></div>`;
}

function forgettingTable(id: string, rows: LifelongViewRow[], multiStudent: boolean): string {
  const T = Math.max(0, ...rows.map((r) => r.tasks));
  if (T < 2) return '';
  const head = Array.from({ length: T - 1 }, (_, j) => `<th class="num">task ${j + 1}</th>`).join('');
  const body = rows.map((r) => `<tr data-method="${esc(r.method)}"><td>${esc(r.name)}</td>${multiStudent ? `<td>${esc(r.student)}</td>` : ''}${Array.from({ length: T - 1 }, (_, j) => (r.taskForgetting[j] ? cell(r.taskForgetting[j]!) : '<td class="num">n/a</td>')).join('')}${cell(r.forgetting)}</tr>`);
  return `<h3>Forgetting per task</h3>
<div class="scroll"><table id="${esc(id)}" class="sortable lifelong-forgetting"><thead><tr><th>method</th>${multiStudent ? '<th>student</th>' : ''}${head}<th class="num">mean (reported)</th></tr></thead>
<tbody>${body.join('\n')}</tbody></table></div>
<p class="small muted">Task <em>j</em>: the best accuracy on task <em>j</em>'s classes after any task before the last, minus its accuracy after the last task (points; mean ± std over seeds). Their mean is the reported forgetting.</p>`;
}

async function chart(id: string, rows: LifelongViewRow[], multiStudent: boolean): Promise<string> {
  const values = rows.flatMap((r) => r.afterTask.flatMap((s, k) => (s.mean === null ? [] : [{ method: multiStudent ? `${r.name} (${r.student})` : r.name, task: k + 1, acc: round(s.mean), std: s.std === null ? null : round(s.std), n: s.n }])));
  const svg = await renderSvg({
    width: 520, height: 280, data: { values },
    mark: { type: 'line', point: { filled: true, size: 50 } },
    encoding: {
      x: { field: 'task', type: 'ordinal', title: 'after task k', axis: { labelAngle: 0 } },
      y: { field: 'acc', type: 'quantitative', scale: { zero: false }, title: 'top-1 on the classes seen so far (%)' },
      color: { field: 'method', type: 'nominal', title: 'method', scale: { scheme: 'tableau10' } },
      tooltip: [{ field: 'method' }, { field: 'task' }, { field: 'acc' }, { field: 'std' }, { field: 'n', title: 'seeds' }],
    },
  });
  return figure(id, 'Accuracy on the seen classes after each task', svg, 'acc_after_task_k: mean over seeds of the top-1 on every class seen up to task k, with the method\'s own classifier (iCaRL: nearest mean of exemplars).');
}

async function section(b: Leaderboard, ctx: { metric: Metric; meta: ReadonlyMap<string, MethodMeta> }): Promise<string> {
  const rows = lifelongView(b.rows, ctx.metric, ctx.meta);
  const multi = new Set(rows.map((r) => r.student)).size > 1;
  const id = elementId('lifelong', b.id);
  return `${sectionHead(b, protocolBanner(b.protocol))}
${summaryTable(id, rows, multi)}
<p class="small">Average incremental accuracy: mean over tasks of the top-1 on the classes seen so far after each task; last accuracy: that top-1 after the last task; forgetting: see below (points, lower is better). Means ± sample std over seeds. <strong>iCaRL's headline is its nearest-mean-of-exemplars accuracy</strong> (<code>last_accuracy</code>, the classifier of the paper), not <code>last_top1</code> (the network's own output layer), so its last accuracy and network top-1 differ; the other methods classify with the network's seen-class outputs.</p>
${forgettingTable(`${id}--forgetting`, rows, multi)}
${await chart(`chart-${id}`, rows, multi)}`;
}

export const lifelongPage: FamilyView = {
  id: 'lifelong',
  family: 'lifelong',
  title: 'Lifelong (class-incremental) distillation',
  blurb: 'average incremental accuracy, last accuracy and forgetting over tasks',
  async render(ctx) {
    const sections: string[] = [];
    for (const b of boardsWith(ctx.boards, 'lifelong')) sections.push(await section(b, ctx));
    return `<h1>${esc(lifelongPage.title)}</h1>
<p>The classes are learned task by task; after each task the student is evaluated on every class seen so far. finetune (no memory, no distillation) and joint (all data of the seen tasks) bound the distilling methods (LwF, iCaRL) from below and above.</p>
${sections.join('\n')}`;
  },
};
