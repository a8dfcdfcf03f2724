/** Where tests find the shared CIFAR files: $KDBENCH_DATA_DIR, else ../shared/datasets beside the repo. */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const dataDir = process.env.KDBENCH_DATA_DIR ?? resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../../shared/datasets');
