#!/usr/bin/env node
// kdbench command line: the built CLI (dist/) when it matches the sources, else the TypeScript sources (see launch.js).
import { launch } from './launch.js';

await launch('kdbench');
