/** @kdbench/feature: feature-based distillation methods (survey section 2.2). */
import { ab } from './ab.js';
import { fitnet } from './fitnet.js';
import { ft } from './ft.js';
import { nst } from './nst.js';
import { vid } from './vid.js';

export { ab, fitnet, ft, nst, vid };
export const featureMethods = [fitnet, nst, ft, ab, vid] as const;
export { tofd } from './tofd.js';
