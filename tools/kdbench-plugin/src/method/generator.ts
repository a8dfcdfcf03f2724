/**
 * The `method` generator: scaffolds a distillation method in its family package and wires it in.
 *
 *   npx nx g @kdbench/tools:method <name> --family <family> --knowledge response|feature|relation \
 *     --scheme offline|online|self [--suite benchmarks/<file>.yaml]
 *
 * writes packages/<family>/src/<name>.ts (metadata placeholders, defaults, a loss that throws
 * '<name>: loss not written yet') and packages/<family>/test/<name>.test.ts (the hand-computed-value
 * pattern of kd.test.ts, failing until the loss and its expected value are written), adds the export
 * to packages/<family>/src/index.ts, the import and `.register(<name>)` to
 * packages/harness/src/registry.ts and, with --suite, the id to that suite's top-level methods list.
 *
 * `generateMethod` is a plain function over a `TreeLike` (nx's Tree fits), so it is tested without nx;
 * nx-generator.cjs is the thin wrapper nx loads.
 */
import type { TreeLike } from './tree.js';
import { methodFile, testFile } from './templates.js';

export const KNOWLEDGE = ['response', 'feature', 'relation'] as const;
export const SCHEMES = ['offline', 'online', 'self'] as const;
/** The survey's families (FAMILIES of packages/core/src/method.ts; a test keeps the two equal). */
export const FAMILIES = [
  'baseline', 'response', 'feature', 'attention', 'relation', 'graph', 'online', 'self', 'adversarial',
  'multi-teacher', 'cross-modal', 'data-free', 'quantized', 'lifelong', 'nas',
] as const;

export const REGISTRY_PATH = 'packages/harness/src/registry.ts';

export interface MethodOptions {
  name: string;
  family: string;
  knowledge: string;
  scheme: string;
  suite?: string;
}

export class GeneratorError extends Error {
  override name = 'GeneratorError';
}

export interface GenerateResult {
  created: string[];
  updated: string[];
}

/** Lowercase id, usable as the export name: kd, dkd, fitnet, crdkd, lp2 ... */
const NAME = /^[a-z][a-z0-9]*$/;

function validate(tree: TreeLike, o: MethodOptions): void {
  const errors: string[] = [];
  if (typeof o.name !== 'string' || !NAME.test(o.name)) {
    errors.push(`name "${o.name}" is not a method id: use lowercase letters and digits, starting with a letter (e.g. kd, dkd, fitnet)`);
  }
  const families = tree.children('packages').filter((d) => (FAMILIES as readonly string[]).includes(d) && tree.isFile(`packages/${d}/src/index.ts`)).sort();
  if (!families.includes(o.family)) {
    errors.push(`family "${o.family}" has no package: expected one of ${families.join(', ') || '(none found)'} (packages/<family>/src/index.ts); a new family needs its package first`);
  }
  if (!(KNOWLEDGE as readonly string[]).includes(o.knowledge)) {
    errors.push(`knowledge "${o.knowledge}" is not one of ${KNOWLEDGE.join(', ')}`);
  }
  if (!(SCHEMES as readonly string[]).includes(o.scheme)) {
    errors.push(`scheme "${o.scheme}" is not one of ${SCHEMES.join(', ')}`);
  }
  if (o.suite !== undefined && o.suite !== '') {
    if (!/\.ya?ml$/.test(o.suite) || !tree.isFile(o.suite)) errors.push(`suite "${o.suite}" is not a suite file (e.g. benchmarks/smoke.yaml)`);
  }
  if (!tree.isFile(REGISTRY_PATH)) errors.push(`${REGISTRY_PATH} not found: run the generator from the workspace root`);
  if (errors.length) throw new GeneratorError(`kdbench method generator: ${errors.join('; ')}`);
}

function registeredIds(registry: string): string[] {
  return [...registry.matchAll(/\.register\(\s*([A-Za-z_$][\w$]*)\s*\)/g)].map((m) => m[1]!);
}

function refuseExisting(tree: TreeLike, o: MethodOptions): void {
  const found: string[] = [];
  for (const dir of tree.children('packages')) {
    for (const f of [`packages/${dir}/src/${o.name}.ts`, `packages/${dir}/test/${o.name}.test.ts`]) if (tree.exists(f)) found.push(`${f} exists`);
  }
  const registry = tree.read(REGISTRY_PATH, 'utf-8') ?? '';
  if (registeredIds(registry).includes(o.name)) found.push(`"${o.name}" is already registered in ${REGISTRY_PATH}`);
  if (found.length) {
    throw new GeneratorError(`kdbench method generator: method "${o.name}" already exists (${found.join('; ')}); nothing was written. Pick another name, or edit the existing method.`);
  }
}

/** Adds `export { name } from './name.js'` (and the name to a `<family>Methods` array, if the index has one). */
export function addToFamilyIndex(index: string, name: string): string {
  const lines = index.split('\n');
  const arrayIdx = lines.findIndex((l) => /^export const \w+Methods\b.*=\s*\[.*\]/.test(l));
  let lastExport = -1;
  lines.forEach((l, i) => { if (/^export .* from '\.\/.*';\s*$/.test(l)) lastExport = i; });
  if (arrayIdx >= 0) {
    // the array needs a local binding: import it beside the others, and add it to the array
    let lastImport = -1;
    lines.forEach((l, i) => { if (/^import .* from '\.\/.*';\s*$/.test(l)) lastImport = i; });
    lines[arrayIdx] = lines[arrayIdx]!.replace(/\](\s*(as const)?\s*;?\s*)$/, `, ${name}]$1`);
    const exportLine = `export { ${name} } from './${name}.js';`;
    if (lastExport >= 0) lines.splice(lastExport + 1, 0, exportLine);
    else lines.splice(arrayIdx, 0, exportLine);
    if (lastImport >= 0) lines.splice(lastImport + 1, 0, `import { ${name} } from './${name}.js';`);
    return lines.join('\n');
  }
  const exportLine = `export { ${name} } from './${name}.js';`;
  if (lastExport >= 0) {
    lines.splice(lastExport + 1, 0, exportLine);
    return lines.join('\n');
  }
  return `${index.replace(/\n*$/, '\n')}${exportLine}\n`;
}

/** Adds the import from `@kdbench/<family>` and `.register(name)` after the family's last registration. */
export function addToRegistry(registry: string, name: string, family: string): string {
  const pkg = `@kdbench/${family}`;
  const lines = registry.split('\n');
  const importRe = new RegExp(`^import \\{([^}]*)\\} from '${pkg.replace('/', '\\/')}';\\s*$`);
  let importIdx = lines.findIndex((l) => importRe.test(l));
  let familyNames: string[];
  if (importIdx >= 0) {
    familyNames = lines[importIdx]!.match(importRe)![1]!.split(',').map((s) => s.trim()).filter(Boolean);
    const names = [...familyNames, name].sort();
    lines[importIdx] = `import { ${names.join(', ')} } from '${pkg}';`;
  } else {
    familyNames = [];
    let lastImport = -1;
    lines.forEach((l, i) => { if (/^import .* from '.*';\s*$/.test(l)) lastImport = i; });
    importIdx = lastImport + 1;
    lines.splice(importIdx, 0, `import { ${name} } from '${pkg}';`);
  }
  const regRe = /^(\s*)\.register\(\s*([A-Za-z_$][\w$]*)\s*\)(;?)\s*$/;
  let after = -1;
  let last = -1;
  lines.forEach((l, i) => {
    const m = l.match(regRe);
    if (!m) return;
    last = i;
    if (familyNames.includes(m[2]!)) after = i;
  });
  if (last < 0) throw new GeneratorError(`kdbench method generator: no .register(...) line found in ${REGISTRY_PATH}`);
  const at = after >= 0 ? after : last;
  const m = lines[at]!.match(regRe)!;
  const ends = m[3] === ';';
  if (ends) lines[at] = lines[at]!.replace(/;\s*$/, '');
  lines.splice(at + 1, 0, `${m[1]}.register(${name})${ends ? ';' : ''}`);
  return lines.join('\n');
}

/** Appends the id to the suite's top-level `methods:` list (flow `[a, b]` or block `- a` style). */
export function addToSuite(suite: string, name: string, suitePath = 'suite'): string {
  const lines = suite.split('\n');
  const i = lines.findIndex((l) => /^methods:/.test(l));
  if (i < 0) throw new GeneratorError(`kdbench method generator: ${suitePath} has no top-level "methods:" list (its methods are per pair): add "${name}" to the pairs by hand`);
  const flow = lines[i]!.match(/^methods:\s*(&\w+\s*)?\[(.*)\](.*)$/);
  if (flow) {
    const items = flow[2]!.split(',').map((s) => s.trim()).filter(Boolean);
    if (!items.includes(name)) items.push(name);
    lines[i] = `methods: ${flow[1] ?? ''}[${items.join(', ')}]${flow[3]}`;
    return lines.join('\n');
  }
  if (/^methods:\s*(#.*)?$/.test(lines[i]!)) {
    let j = i + 1;
    let indent = '  ';
    while (j < lines.length && /^\s+-\s/.test(lines[j]!)) { indent = lines[j]!.match(/^(\s+)-/)![1]!; j++; }
    lines.splice(j, 0, `${indent}- ${name}`);
    return lines.join('\n');
  }
  throw new GeneratorError(`kdbench method generator: cannot read the methods list of ${suitePath} ("${lines[i]}"): add "${name}" by hand`);
}

export function generateMethod(tree: TreeLike, options: MethodOptions): GenerateResult {
  const o: MethodOptions = { ...options, suite: options.suite || undefined };
  validate(tree, o);
  refuseExisting(tree, o);
  const srcPath = `packages/${o.family}/src/${o.name}.ts`;
  const testPath = `packages/${o.family}/test/${o.name}.test.ts`;
  const indexPath = `packages/${o.family}/src/index.ts`;
  // compute every change before writing, so a failure writes nothing
  const index = addToFamilyIndex(tree.read(indexPath, 'utf-8')!, o.name);
  const registry = addToRegistry(tree.read(REGISTRY_PATH, 'utf-8')!, o.name, o.family);
  const suite = o.suite ? addToSuite(tree.read(o.suite, 'utf-8')!, o.name, o.suite) : undefined;
  tree.write(srcPath, methodFile(o));
  tree.write(testPath, testFile(o));
  tree.write(indexPath, index);
  tree.write(REGISTRY_PATH, registry);
  if (o.suite && suite !== undefined) tree.write(o.suite, suite);
  return { created: [srcPath, testPath], updated: [indexPath, REGISTRY_PATH, ...(o.suite ? [o.suite] : [])] };
}

/** Next steps printed after a run. */
export function nextSteps(o: MethodOptions): string {
  return [
    `Scaffolded method "${o.name}" in packages/${o.family}. Next:`,
    `  1. fill the doc comment, title, paper (authors, title, venue, year, url), defaults and hyperDocs in packages/${o.family}/src/${o.name}.ts`,
    `  2. write ${o.name}Loss (it throws "${o.name}: loss not written yet" until then)`,
    `  3. put the hand-computed value in packages/${o.family}/test/${o.name}.test.ts and run: npx vitest run --root packages/${o.family} test/${o.name}.test.ts`,
    `  4. conformance on real data: npx vitest run --root packages/harness test/conformance.test.ts -t "method ${o.name}"`,
    `  5. one quick run: npx kdbench run --dataset cifar10 --teacher resnet8 --student resnet8 --method ${o.name} --protocol smoke`,
  ].join('\n');
}
