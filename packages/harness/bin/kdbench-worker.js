#!/usr/bin/env node
// A kdbench suite worker process, started by the suite runner; built or from source like kdbench.js (see launch.js).
import { launch } from './launch.js';

await launch('kdbench-worker');
