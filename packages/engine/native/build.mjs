// Builds the optional native kernel addon (src/*.c) into native/build/kdnative.node.
// Runs at `npm ci` (the engine package's install script) and never fails the install: without a C
// compiler, Node's API headers or OpenBLAS (`apt-get install -y libopenblas-dev`) it records why in
// native/build/kdnative.json, and the wasm backend keeps its WebAssembly kernels. npm hides this
// script's output; the repository's postinstall (native/status.mjs) and the first run after the
// build say what happened. Rebuild by hand: `node packages/engine/native/build.mjs`.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const sources = fs.readdirSync(path.join(here, 'src')).filter((f) => f.endsWith('.c')).sort().map((f) => path.join(here, 'src', f));
const target = path.join(here, 'build', 'kdnative.node');
/**
 * Beside the addon: {built: true, extensions} (the instruction-set extensions it was compiled for,
 * which src/native/addon.ts checks before loading) or {built: false, disabled, reason, fix}.
 */
const manifest = path.join(here, 'build', 'kdnative.json');
/** The one command that builds the addon on Debian/Ubuntu. */
const FIX = `apt-get install -y build-essential libopenblas-dev && node ${path.join(here, 'build.mjs')}`;

/** AVX2 and FMA when this machine has them (the addon is built where it runs; addon.ts refuses it on a CPU without them). */
function cpuExtensions() {
  if (process.env.KDBENCH_NATIVE_GENERIC === '1' || process.arch !== 'x64') return [];
  try {
    const flags = new Set((/^flags\s*:(.*)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '').trim().split(/\s+/));
    return flags.has('avx2') && flags.has('fma') ? ['avx2', 'fma'] : [];
  } catch {
    return [];
  }
}

function nodeApiIncludes() {
  const candidates = [];
  try {
    candidates.push(createRequire(import.meta.url)('node-api-headers').include_dir);
  } catch { /* not installed */ }
  candidates.push(path.resolve(path.dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node');
  return candidates.find((dir) => dir && fs.existsSync(path.join(dir, 'node_api.h')));
}

function skip(reason, fix = FIX, disabled = false) {
  fs.rmSync(target, { force: true });
  fs.rmSync(`${target}.tmp`, { force: true });
  fs.mkdirSync(path.dirname(manifest), { recursive: true });
  fs.writeFileSync(manifest, `${JSON.stringify({ built: false, disabled, reason, fix })}\n`);
  console.log(`kdbench native kernels: not built (${reason}); the wasm backend uses its WebAssembly kernels. Fix: ${fix}`);
  process.exit(0);
}

if (process.env.KDBENCH_NATIVE === '0') skip('KDBENCH_NATIVE=0', `unset KDBENCH_NATIVE, then node ${path.join(here, 'build.mjs')}`, true);
if (process.platform !== 'linux') skip(`platform ${process.platform}: the build script knows Linux only`, 'none on this platform (use tfjs-node, see the README\'s Backends section)');
const include = nodeApiIncludes();
if (!include) skip("Node's node_api.h not found");
const compiler = process.env.CC ?? 'cc';
fs.mkdirSync(path.dirname(target), { recursive: true });
const extensions = cpuExtensions();
const args = [
  // no trapping math: lets the compiler vectorise compare-and-select loops (ReLU masks); no errno from sqrt
  '-O3', '-fno-trapping-math', '-fno-math-errno', ...extensions.map((e) => `-m${e}`),
  '-pthread', '-fPIC', '-shared', '-std=c11', '-Wall', '-Wextra', '-DNAPI_VERSION=8',
  `-I${include}`, '-I/usr/include/x86_64-linux-gnu', '-I/usr/include/openblas',
  ...sources, '-o', `${target}.tmp`, '-lopenblas', '-lm',
];
const result = spawnSync(compiler, args, { encoding: 'utf8' });
if (result.error) skip(`${compiler}: ${result.error.message}`);
if (result.status !== 0) {
  const why = /cblas\.h|lopenblas/.test(result.stderr) ? 'OpenBLAS not found: apt-get install -y libopenblas-dev' : result.stderr.trim().split('\n').slice(0, 3).join(' | ');
  skip(why);
}
// a new file, not the old one rewritten: processes running the old addon keep their mapping
fs.renameSync(`${target}.tmp`, target);
fs.writeFileSync(manifest, `${JSON.stringify({ built: true, extensions })}\n`);
console.log(`kdbench native kernels: built ${path.relative(process.cwd(), target)} (convolutions, fused batch norm, SGD, channel copies; OpenBLAS SGEMM${extensions.length ? `, ${extensions.join("+").toUpperCase()}` : ""})`);
