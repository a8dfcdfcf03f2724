/** The conformance kit on the lifelong methods (metadata; two steps per stage on real images, no leaks, seeded). */
import { describeConformance } from '@kdbench/core/testing/vitest';
import { finetune, icarl, joint, lwf } from '../src/index.js';
import { dataDir } from './paths.js';

describeConformance([finetune, joint, lwf, icarl], { dataDir });
