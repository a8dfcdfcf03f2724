/**
 * The `kdbench` process: installs the last-resort error guard before anything else loads, then
 * runs the command line. bin/kdbench.js starts this file (built into dist/kdbench.js, or from source).
 */
import { debugEnabled, installProcessGuards } from './errors.js';

const argv = process.argv.slice(2);
const debug = argv.includes('--debug') || debugEnabled();
const command = argv.filter((a) => a !== '--debug')[0];
installProcessGuards(() => (command ? `kdbench ${command}` : 'kdbench'), () => debug);
if (debug) process.setSourceMapsEnabled(true);
const { main } = await import('./main.js');
process.exitCode = await main(argv);
