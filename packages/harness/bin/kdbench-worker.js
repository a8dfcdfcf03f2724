#!/usr/bin/env node
// A kdbench suite worker process: runs the TypeScript worker entry through tsx, like kdbench.js.
import { register } from 'tsx/esm/api';

register();
await import('../src/suite/worker.ts');
