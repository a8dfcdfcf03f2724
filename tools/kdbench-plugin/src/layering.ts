/**
 * The layering rules of the repository (spec/ARCHITECTURE.md), checked on the source text:
 *
 * - dependency direction: engine <- data <- models <- core <- {families, report} <- harness <- {tools, benchmarks};
 *   a package imports only packages of lower layers (and itself);
 * - a family package never imports another family, nor the report (and the report no family);
 * - every workspace package a file imports is declared in its package.json (`dependencies` for
 *   src/, `dependencies` or `devDependencies` for tests and scripts), so nothing resolves only
 *   through workspace hoisting;
 * - no relative import leaves its package;
 * - inside the harness, code below the CLI (everything outside `src/cli/`) never imports `src/cli/`.
 *
 * `layeringFindings(root)` returns one line per violation ([] when the tree follows the rules);
 * `extraFiles` adds files to check as if they were in the tree (the test plants violations with it).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const BASE_LAYERS: Record<string, number> = { engine: 0, data: 1, models: 2, core: 3, report: 4, harness: 5 };
const FAMILY_LAYER = 4;
const TOOLS_LAYER = 6;
/** Harness files allowed to import the CLI: the CLI itself and the package entry that exports it. */
const HARNESS_ABOVE_CLI = /^packages\/harness\/src\/(cli\/|index\.ts$)/;

export interface SourceFile {
  /** Path relative to the repository root, with '/' separators. */
  readonly path: string;
  readonly content: string;
}

interface Pkg {
  readonly name: string; // folder name: 'core', 'feature', 'kdbench-plugin'
  readonly dir: string; // 'packages/core'
  readonly npmName: string; // '@kdbench/core'
  readonly layer: number;
  readonly family: boolean;
  readonly deps: Set<string>;
  readonly devDeps: Set<string>;
}

function readPackages(root: string): Pkg[] {
  const out: Pkg[] = [];
  const add = (dir: string, name: string, layer: number, family: boolean) => {
    const file = join(root, dir, 'package.json');
    if (!existsSync(file)) return;
    const json = JSON.parse(readFileSync(file, 'utf8')) as { name: string; dependencies?: object; devDependencies?: object };
    out.push({
      name, dir, npmName: json.name, layer, family,
      deps: new Set(Object.keys(json.dependencies ?? {})), devDeps: new Set(Object.keys(json.devDependencies ?? {})),
    });
  };
  for (const parent of ['packages', 'tools']) {
    const base = join(root, parent);
    if (!existsSync(base)) continue;
    for (const name of readdirSync(base)) {
      const family = parent === 'packages' && !(name in BASE_LAYERS);
      add(`${parent}/${name}`, name, parent === 'tools' ? TOOLS_LAYER : family ? FAMILY_LAYER : BASE_LAYERS[name]!, family);
    }
  }
  add('benchmarks', 'benchmarks', TOOLS_LAYER, false); // the table and engine-bench scripts
  return out;
}

function sourceFiles(root: string, dir: string): SourceFile[] {
  const out: SourceFile[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(join(root, d))) {
      if (entry === 'node_modules' || entry === 'dist' || entry === 'native') continue;
      const rel = `${d}/${entry}`;
      if (statSync(join(root, rel)).isDirectory()) walk(rel);
      else if (/\.(ts|mts|js|mjs)$/.test(entry) && !entry.endsWith('.d.ts')) out.push({ path: rel, content: readFileSync(join(root, rel), 'utf8') });
    }
  };
  walk(dir);
  return out;
}

/**
 * Module specifiers of static imports, re-exports and dynamic imports. A static import or re-export
 * is a statement: its line starts with `import`, `export` or (a multi-line one) `}`, so an import
 * written inside a string (a test that edits or plants source text) is not one.
 */
export function importsOf(content: string): string[] {
  const specs: string[] = [];
  const statements = [/^\s*(?:import|export|\})[^'"\n]*?\bfrom\s+['"]([^'"]+)['"]/gm, /^\s*import\s+['"]([^'"]+)['"]/gm];
  for (const re of [...statements, /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g]) {
    for (const m of content.matchAll(re)) specs.push(m[1]!);
  }
  return specs;
}

export function layeringFindings(root: string, extraFiles: SourceFile[] = []): string[] {
  const pkgs = readPackages(root);
  const byNpm = new Map(pkgs.map((p) => [p.npmName, p]));
  const files = [...pkgs.flatMap((p) => sourceFiles(root, p.dir)), ...extraFiles];
  const findings: string[] = [];
  for (const f of files) {
    const pkg = pkgs.find((p) => f.path.startsWith(`${p.dir}/`));
    if (!pkg) continue;
    const inSrc = f.path.startsWith(`${pkg.dir}/src/`);
    for (const spec of importsOf(f.content)) {
      if (spec.startsWith('.')) {
        const target = normalize(join(dirname(f.path), spec)).split(sep).join('/');
        // shared root files (vitest.shared.ts) are fine; another package's files are not
        if (/^(packages|tools|benchmarks)\//.test(target) && !target.startsWith(`${pkg.dir}/`)) findings.push(`${f.path}: relative import '${spec}' leaves ${pkg.npmName}`);
        if (pkg.name === 'harness' && inSrc && !HARNESS_ABOVE_CLI.test(f.path) && target.startsWith('packages/harness/src/cli/')) {
          findings.push(`${f.path}: harness code below the CLI imports '${spec}' from src/cli/`);
        }
        continue;
      }
      const npm = spec.match(/^(@kdbench\/[^/]+)/)?.[1];
      if (!npm || npm === pkg.npmName) continue;
      const dep = byNpm.get(npm);
      if (!dep) {
        findings.push(`${f.path}: imports '${npm}', which is no workspace package`);
        continue;
      }
      const declared = pkg.deps.has(npm) || (!inSrc && pkg.devDeps.has(npm));
      if (!declared) findings.push(`${f.path}: imports ${npm}, not declared in ${pkg.dir}/package.json${inSrc ? ' dependencies' : ''}`);
      if (pkg.family && dep.family) findings.push(`${f.path}: family ${pkg.npmName} imports family ${npm}`);
      else if (pkg.layer === FAMILY_LAYER && dep.layer === FAMILY_LAYER) findings.push(`${f.path}: ${pkg.npmName} imports ${npm} (families and the report are independent)`);
      else if (dep.layer > pkg.layer) findings.push(`${f.path}: ${pkg.npmName} (layer ${pkg.layer}) imports ${npm} (layer ${dep.layer}), against the dependency direction`);
    }
  }
  return findings;
}

/** The repository root seen from this file. */
export function repositoryRoot(): string {
  return fileURLToPath(new URL('../../../', import.meta.url));
}
