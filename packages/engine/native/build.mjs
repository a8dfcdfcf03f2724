// Builds the optional native kernel addon (src/*.c) into native/build/kdnative.node.
// Runs at `npm ci` (the engine package's install script) and never fails the install: without a C
// compiler, Node's API headers or OpenBLAS (`apt-get install -y libopenblas-dev`) it prints why and
// the wasm backend keeps its WebAssembly kernels. Rebuild by hand: `node packages/engine/native/build.mjs`.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const sources = fs.readdirSync(path.join(here, 'src')).filter((f) => f.endsWith('.c')).sort().map((f) => path.join(here, 'src', f));
const target = path.join(here, 'build', 'kdnative.node');

function nodeApiIncludes() {
  const candidates = [];
  try {
    candidates.push(createRequire(import.meta.url)('node-api-headers').include_dir);
  } catch { /* not installed */ }
  candidates.push(path.resolve(path.dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node');
  return candidates.find((dir) => dir && fs.existsSync(path.join(dir, 'node_api.h')));
}

function skip(reason) {
  fs.rmSync(target, { force: true });
  console.log(`kdbench native kernels: not built (${reason}); the wasm backend uses its WebAssembly kernels.`);
  process.exit(0);
}

if (process.env.KDBENCH_NATIVE === '0') skip('KDBENCH_NATIVE=0');
if (process.platform !== 'linux') skip(`platform ${process.platform}: the build script knows Linux only`);
const include = nodeApiIncludes();
if (!include) skip("Node's node_api.h not found");
const compiler = process.env.CC ?? 'cc';
fs.mkdirSync(path.dirname(target), { recursive: true });
const args = [
  '-O3', '-pthread', '-fPIC', '-shared', '-std=c11', '-Wall', '-Wextra', '-DNAPI_VERSION=8',
  `-I${include}`, '-I/usr/include/x86_64-linux-gnu', '-I/usr/include/openblas',
  ...sources, '-o', target, '-lopenblas', '-lm',
];
const result = spawnSync(compiler, args, { encoding: 'utf8' });
if (result.error) skip(`${compiler}: ${result.error.message}`);
if (result.status !== 0) {
  const why = /cblas\.h|lopenblas/.test(result.stderr) ? 'OpenBLAS not found: apt-get install -y libopenblas-dev' : result.stderr.trim().split('\n').slice(0, 3).join(' | ');
  skip(why);
}
console.log(`kdbench native kernels: built ${path.relative(process.cwd(), target)} (OpenBLAS SGEMM convolutions, batch norm, pooling and sums)`);
