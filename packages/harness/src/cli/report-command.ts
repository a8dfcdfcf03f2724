/**
 * `kdbench report`: reads the Arrow results and the registry here, and hands rows and method
 * metadata to @kdbench/report, which renders the static site. The dependency runs one way
 * (harness -> report -> core): the report never imports the harness.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ConfigError } from '@kdbench/core';
import { buildSite, DEFAULT_PUBLISHED_DIR, loadPublished, type ReportRow } from '@kdbench/report';
import { readResults } from '../results/arrow-store.js';
import type { ResultRow } from '../results/schema.js';
import { registry } from '../registry.js';
import { checkWritableDir } from '../output-dirs.js';
import { effectiveLabel } from '../protocol-label.js';
import { DEFAULT_SUITES_DIR, loadSuiteDeclarations } from '../suite/references.js';
import { parse, resultsDir } from './args.js';
import { REPORT_HELP } from './help.js';

export async function reportCommand(argv: string[]): Promise<number> {
  const { values: o } = parse(argv, {
    help: { type: 'boolean', short: 'h' },
    results: { type: 'string' },
    out: { type: 'string' },
    metric: { type: 'string' },
    published: { type: 'string' },
    suites: { type: 'string' },
    'export-beside-results': { type: 'boolean' },
  }, REPORT_HELP);
  if (o.help) return (console.log(REPORT_HELP), 0);
  const metric = o.metric === undefined || o.metric === 'last' ? 'last_top1' : o.metric === 'best' ? 'best_top1' : null;
  if (!metric) throw new ConfigError(`--metric must be 'last' or 'best', got '${o.metric}'`);
  const res = resultsDir(o);
  const file = existsSync(res) && statSync(res).isFile() ? res : join(res, 'results.arrow');
  if (!existsSync(file)) throw new ConfigError(`no results file at ${file} (run 'kdbench run' first, or pass --results DIR)`);
  if (o.suites !== undefined && !existsSync(o.suites)) throw new ConfigError(`--suites: no folder at ${o.suites}`);
  const out = resolve(o.out ?? join('reports', 'site'));
  checkWritableDir(out, 'site folder (--out)');
  // ResultRow must stay assignable to the report's row type: a schema change that breaks the report fails here.
  // labels state the effective values of overrides, also in rows recorded before they did
  const declared = loadSuiteDeclarations(o.suites ?? DEFAULT_SUITES_DIR);
  const rows: ReportRow[] = readResults(file).map((r) => ({ ...r, protocol_label: effectiveLabel(r.protocol_label) })) satisfies ResultRow[];
  const site = await buildSite({
    rows,
    methods: registry.list(),
    published: loadPublished(o.published ?? DEFAULT_PUBLISHED_DIR),
    references: declared.references,
    settings: declared.settings,
    placements: declared.placements,
    outDir: out,
    metric,
    exportDir: o['export-beside-results'] ? dirname(resolve(file)) : undefined,
    runsDir: join(dirname(resolve(file)), 'runs'), // run folders beside results.arrow: artifacts (image grids) for the family views
  });
  console.log(`report: ${rows.length} rows, ${site.leaderboards.length} leaderboard(s) -> ${join(out, 'index.html')}`);
  for (const b of site.leaderboards) console.log(`  ${b.id}.html  ${b.protocol.label}`);
  if (o['export-beside-results']) console.log(`rows exported beside ${file}: results.csv, results.json`);
  return 0;
}
