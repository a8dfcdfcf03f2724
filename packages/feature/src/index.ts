/** @kdbench/feature: feature-based distillation methods (survey section 2.2). */
import { ab } from './ab.js';
import { fitnet } from './fitnet.js';
import { ft } from './ft.js';
import { jointrd } from './jointrd.js';
import { mgd } from './mgd.js';
import { nst } from './nst.js';
import { padl2 } from './padl2.js';
import { vid } from './vid.js';

export { ab, fitnet, ft, jointrd, mgd, nst, padl2, vid };
export const featureMethods = [fitnet, nst, ft, ab, vid, padl2, mgd, jointrd] as const;
export { tofd } from './tofd.js';
