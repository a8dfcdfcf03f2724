/** @kdbench/tools: the local nx plugin (generator `method`) and its plain, nx-free core. */
export * from './method/generator.js';
export * from './method/tree.js';
