/** `kdbench methods`, `kdbench models`, `kdbench teachers`: what kdbench can run and has stored. */
import { join } from 'node:path';
import { ConfigError, TeacherStore, parseProtocolOverrides } from '@kdbench/core';
import { RunProgress } from '../progress.js';
import { trainTeacherOnly } from '../run.js';
import { initEngine } from '@kdbench/engine';
import { listModels, modelCounts, type PublishedCount } from '@kdbench/models';
import { registry } from '../registry.js';
import { COMMON_OPTIONS, dataDir, int, parse, resultsDir } from './args.js';
import { formatTable } from './table.js';
import { METHODS_HELP, MODELS_HELP, TEACHERS_HELP } from './help.js';

export function methodsCommand(argv: string[]): number {
  const { values: o } = parse(argv, { help: { type: 'boolean', short: 'h' }, json: { type: 'boolean' } }, METHODS_HELP);
  if (o.help) return (console.log(METHODS_HELP), 0);
  const defs = registry.list();
  if (o.json) {
    console.log(JSON.stringify(defs.map(({ create: _c, ...meta }) => meta), null, 2));
    return 0;
  }
  console.log(formatTable(
    ['id', 'family', 'knowledge', 'scheme', 'teacher', 'paper', 'defaults', 'allowed values'],
    defs.map((d) => [d.id, d.family, d.knowledge, d.scheme, d.teacher,
      d.paper ? `${d.paper.authors.split(',')[0]} ${d.paper.year}` : '-',
      Object.entries(d.defaults).map(([k, v]) => `${k}=${v}`).join(' ') || '-', choicesText(d.hyperChoices ?? {})]),
  ));
  return 0;
}

/** `ensemble: minlogit|naive; peer: '' or a model id` (a list of every zoo model is shown as "a model id"). */
export function choicesText(choices: Readonly<Record<string, readonly string[] | undefined>>): string {
  const models = listModels().map((m) => m.id);
  return Object.entries(choices).map(([k, list = []]) => {
    const isModels = models.every((m) => list.includes(m));
    const rest = list.filter((c) => !(isModels && models.includes(c))).map((c) => (c === '' ? "''" : c));
    return `${k}: ${[...rest, ...(isModels ? ['a model id'] : [])].join(isModels ? ' or ' : '|')}`;
  }).join('; ');
}

export async function modelsCommand(argv: string[]): Promise<number> {
  const { values: o } = parse(argv, { help: { type: 'boolean', short: 'h' }, classes: { type: 'string' }, width: { type: 'string' } }, MODELS_HELP);
  if (o.help) return (console.log(MODELS_HELP), 0);
  await initEngine({ backend: 'cpu' });
  const numClasses = Number(o.classes ?? 100);
  const widthFactor = Number(o.width ?? 1);
  const published = (p: PublishedCount | undefined, unit: number, digits: number) =>
    p ? `${(p.count / unit).toFixed(digits)}${p.classes === numClasses ? '' : ` (${p.classes} cl.)`}` : '-';
  const rows = listModels().map((spec) => {
    const c = modelCounts(spec.id, { numClasses, seed: 0, widthFactor });
    return [spec.id, spec.family, Number((c.params / 1e6).toFixed(3)), Number((c.macs / 1e6).toFixed(1)),
      published(spec.publishedParams, 1e6, 2), published(spec.publishedMacs, 1e6, 0), spec.description];
  });
  console.log(formatTable(['id', 'family', 'params (M)', 'MMACs/img', 'published (M)', 'published MMACs', 'description'], rows));
  return 0;
}

export async function teachersCommand(argv: string[]): Promise<number> {
  if (argv[0] === 'train') return trainTeacherCommand(argv.slice(1));
  const { values: o } = parse(argv, { help: COMMON_OPTIONS.help, results: COMMON_OPTIONS.results }, TEACHERS_HELP);
  if (o.help) return (console.log(TEACHERS_HELP), 0);
  const store = new TeacherStore(join(resultsDir(o), 'teachers'));
  const entries = store.list();
  if (entries.length === 0) {
    console.log(`no teachers in ${store.dir} (kdbench run trains them on demand)`);
    return 0;
  }
  console.log(formatTable(
    ['arch', 'dataset', 'protocol', 'seed', 'epochs', 'last top1', 'best top1', 'sha256', 'trained'],
    entries.map((e) => [e.spec.arch, e.spec.dataset, e.spec.protocol, e.spec.seed, e.spec.epochs,
      Number(e.last.top1.toFixed(2)), Number(e.best.top1.toFixed(2)), e.sha256.slice(0, 12), e.trainedAt.slice(0, 16)]),
  ));
  return 0;
}

async function trainTeacherCommand(argv: string[]): Promise<number> {
  const options = {
    ...COMMON_OPTIONS, dataset: { type: 'string' }, arch: { type: 'string' }, protocol: { type: 'string', default: 'quick' },
    'teacher-seed': { type: 'string' }, set: { type: 'string' },
  } as const;
  const { values: o } = parse(argv, options, TEACHERS_HELP);
  if (o.help) return (console.log(TEACHERS_HELP), 0);
  if (!o.dataset || !o.arch) throw new ConfigError(`--dataset and --arch are required (kdbench teachers --help)`);
  const progress = new RunProgress(`teacher ${o.arch}`);
  const entry = await trainTeacherOnly({
    dataset: o.dataset, teacher: o.arch, protocol: o.protocol!, teacherSeed: int('teacher-seed', o['teacher-seed'], 0), protocolOverrides: parseProtocolOverrides(o.protocol!, o.set),
    dataDir: dataDir(o), resultsDir: resultsDir(o), backend: o.backend, onEvent: (_s, e) => progress.onEvent(e),
  });
  console.log(`teacher ${entry.spec.arch} ${entry.spec.dataset} ${entry.spec.protocol}: last top1 ${entry.last.top1.toFixed(2)}, sha256 ${entry.sha256}`);
  console.log(`stored in ${join(resultsDir(o), 'teachers', entry.name)}`);
  return 0;
}
