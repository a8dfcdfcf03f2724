// Prints whether the native kernels were built (read from native/build/kdnative.json, written by
// build.mjs). The repository's postinstall runs it: npm shows the root package's script output but
// hides the engine package's own install script, so this is where `npm ci` says it, once per install.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const manifest = path.join(path.dirname(fileURLToPath(import.meta.url)), 'build', 'kdnative.json');
let status;
try {
  status = JSON.parse(fs.readFileSync(manifest, 'utf8'));
} catch {
  status = { built: false, reason: 'the build script did not run', fix: 'node packages/engine/native/build.mjs' };
}
if (status.built) {
  const isa = status.extensions?.length ? ` (${status.extensions.join('+').toUpperCase()})` : '';
  console.log(`kdbench native kernels: built${isa}; CPU training on the wasm backend uses them.`);
} else if (status.disabled) {
  console.log(`kdbench native kernels: not built (${status.reason}); the wasm backend uses its WebAssembly kernels.`);
} else {
  const rule = '!'.repeat(100);
  console.log([
    rule,
    `kdbench native kernels were NOT built: ${status.reason}.`,
    'CPU training will run on the WebAssembly kernels alone, about 5x slower.',
    `Fix: ${status.fix}`,
    rule,
  ].join('\n'));
}
