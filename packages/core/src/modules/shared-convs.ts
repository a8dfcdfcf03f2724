/**
 * Which of a network's variables a companion net built beside it reuses (MethodContext.createNetwork's
 * `shared`), as in the Rocket-Launching code's `--param_share` (rocket launching, CTKD): every conv
 * kernel ('interval': the companion's convs of the same stage and block index are the network's) or
 * only the stem conv ('none': the code without parameter sharing, whose conv0 output feeds both nets).
 */
import type { Model, NamedVariable } from '@kdbench/models';
import { ConfigError } from '../registry.js';

export const SHARE_CHOICES = ['interval', 'none'] as const;

export function sharedConvs(network: Model, share: string, method: string): NamedVariable[] {
  const convs = network.namedVariables().filter((nv) => nv.trainable && nv.variable.rank === 4);
  if (share === 'interval') return convs;
  if (share === 'none') return convs.slice(0, 1); // the builders create the stem conv first
  throw new ConfigError(`${method}: share must be 'interval' or 'none', got '${share}'`);
}
