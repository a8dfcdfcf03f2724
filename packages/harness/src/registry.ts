/**
 * Every method kdbench runs, registered once. Adding a method = one file in its family package,
 * its test, and one line here (`npx nx g @kdbench/tools:method` writes all three; CONTRIBUTING.md).
 */
import { MethodRegistry, vanilla } from '@kdbench/core';
import { dkd, kd } from '@kdbench/response';
import { ab, fitnet, ft, nst, vid } from '@kdbench/feature';
import { at, semckd } from '@kdbench/attention';
import { cc, crd, crdkd, fsp, graph, irg, pkt, rkd, sp } from '@kdbench/relation';

export const registry = new MethodRegistry()
  .register(vanilla)
  // response-based
  .register(kd)
  .register(dkd)
  // feature-based
  .register(fitnet)
  .register(nst)
  .register(ft)
  .register(ab)
  .register(vid)
  // attention-based
  .register(at)
  .register(semckd)
  // relation- and graph-based
  .register(fsp)
  .register(sp)
  .register(cc)
  .register(rkd)
  .register(pkt)
  .register(irg)
  .register(crd)
  .register(crdkd)
  .register(graph);
