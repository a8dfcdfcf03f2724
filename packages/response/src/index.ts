export { kd } from './kd.js';
export { dkd } from './dkd.js';
export { takd } from './takd.js';
export { fn } from './fn.js';
