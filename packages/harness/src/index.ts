export * from './run.js';
export * from './registry.js';
export * from './results/schema.js';
export * from './results/arrow-store.js';
export * from './progress.js';
export { main } from './cli/main.js';
