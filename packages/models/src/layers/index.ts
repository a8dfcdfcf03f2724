/** The layer toolkit the model zoo is built from (plain tfjs ops, no tfjs-layers). */
export * from './store.js';
export * from './init.js';
export * from './conv2d.js';
export * from './batchnorm.js';
export * from './linear.js';
export * from './ops.js';
export * from './hooks.js';
