// Builds the kdbench CLI once into dist/ (JavaScript, so that a command starts without compiling
// TypeScript): the CLI and the suite worker with every @kdbench package bundled in, third-party
// packages left as imports. Runs at `npm ci` (the harness package's postinstall) and as
// `npx nx run @kdbench/harness:build`. bin/kdbench.js runs dist/ while dist/build.json matches the sources,
// and the TypeScript sources otherwise, so development never runs a stale build.
// At install this script never fails the install: the CLI then runs from source (slower start).
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.resolve(root, process.argv.includes('--outdir') ? process.argv[process.argv.indexOf('--outdir') + 1] : 'dist');
const atInstall = process.argv.includes('--install');

function fail(reason) {
  fs.rmSync(path.join(outdir, 'build.json'), { force: true });
  if (!atInstall) {
    console.error(`kdbench CLI build failed: ${reason}`);
    process.exit(1);
  }
  console.log(`kdbench CLI: not built (${reason}); kdbench runs from the TypeScript sources (slower start). Retry: npx nx run @kdbench/harness:build`);
  process.exit(0);
}

let esbuild;
try {
  esbuild = await import('esbuild');
} catch (e) {
  fail(`esbuild is not installed (${e.message.split('\n')[0]})`);
}

/** Third-party packages stay imports (resolved from node_modules at run time); @kdbench packages are bundled. */
const externals = {
  name: 'kdbench-externals',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@kdbench/') ? undefined : { path: args.path, external: true }));
  },
};

/**
 * `import.meta.url` of each bundled source file keeps pointing at that file (its position relative
 * to dist/ is fixed), so paths computed from it (native addon, published tables, worker entry) stay right.
 */
const sourceUrls = {
  name: 'kdbench-source-urls',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, async (args) => {
      const text = await fs.promises.readFile(args.path, 'utf8');
      const rel = path.relative(outdir, args.path).split(path.sep).join('/');
      return { contents: text.replaceAll('import.meta.url', `new URL(${JSON.stringify(rel)}, import.meta.url).href`), loader: 'ts' };
    });
  },
};

fs.rmSync(outdir, { recursive: true, force: true });
let result;
try {
  result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: { kdbench: 'src/cli/entry.ts', 'kdbench-worker': 'src/suite/worker.ts' },
    outdir, bundle: true, splitting: true, format: 'esm', platform: 'node', target: 'node20',
    keepNames: true, sourcemap: 'linked', metafile: true, logLevel: 'error', plugins: [externals, sourceUrls],
  });
} catch (e) {
  fail(e.message.split('\n')[0]);
}

// The manifest bin/launch.js checks: every bundled source with its size and hash.
const sources = {};
for (const input of Object.keys(result.metafile.inputs)) {
  const file = path.resolve(root, input);
  const bytes = fs.readFileSync(file);
  const stat = fs.statSync(file);
  sources[path.relative(outdir, file).split(path.sep).join('/')] = {
    size: stat.size, mtimeMs: stat.mtimeMs, sha256: createHash('sha256').update(bytes).digest('hex'),
  };
}
fs.writeFileSync(path.join(outdir, 'build.json'), `${JSON.stringify({ builtAt: new Date().toISOString(), sources }, null, 1)}\n`);
const bytes = fs.readdirSync(outdir).filter((f) => f.endsWith('.js')).reduce((s, f) => s + fs.statSync(path.join(outdir, f)).size, 0);
console.log(`kdbench CLI built: ${Object.keys(sources).length} sources -> ${path.relative(process.cwd(), outdir) || '.'} (${(bytes / 1e6).toFixed(1)} MB of JavaScript)`);
