/**
 * Every method kdbench runs, registered once. Adding a method = one file in its family package,
 * its test, and one line here (`npx nx g @kdbench/tools:method` writes all three; CONTRIBUTING.md).
 */
import { MethodRegistry, vanilla } from '@kdbench/core';
import { dkd, kd, takd } from '@kdbench/response';
import { ab, fitnet, ft, nst, vid } from '@kdbench/feature';
import { jointrd, mgd, padl2 } from '@kdbench/feature';
import { at, ctkd, semckd } from '@kdbench/attention';
import { cc, crd, crdkd, fsp, pkt, rkd, sp } from '@kdbench/relation';
import { graphdistill, hkd, irg, ktg, lp, lsp, mhgd } from '@kdbench/graph';
import { dcm, dml, kdcl, one, pcl, rocket } from '@kdbench/online';
import { ban, byot, cskd, ddgsd, snapshot, tfkdself, tfkdvirtual } from '@kdbench/self';
import { nasevo, nasrandom } from '@kdbench/nas';
import { finetune, icarl, joint, lwf } from '@kdbench/lifelong';
import { apprentice, qat, qkd, quantdistill } from '@kdbench/quantized';
import { aekd, avgkd, camkd, noisyteacher, randteacher, twoteacher, youmt } from '@kdbench/multi-teacher';
import { crdcrossmodal, modalitykd, modalitylabeled, suptransfer } from '@kdbench/cross-modal';
import { abm, advfeat, afd, cganlogits, meal } from '@kdbench/adversarial';
import { dafl, deepinv, dfad, zskt } from '@kdbench/data-free';
import { fn } from '@kdbench/response';
import { tofd } from '@kdbench/feature';
import { sskd } from '@kdbench/relation';

export const registry = new MethodRegistry()
  .register(vanilla)
  // response-based
  .register(kd)
  .register(dkd)
  .register(takd)
  .register(fn)
  // feature-based
  .register(fitnet)
  .register(nst)
  .register(ft)
  .register(ab)
  .register(vid)
  .register(tofd)
  .register(padl2)
  .register(mgd)
  .register(jointrd)
  // attention-based
  .register(at)
  .register(semckd)
  .register(ctkd)
  // relation-based
  .register(fsp)
  .register(sp)
  .register(cc)
  .register(rkd)
  .register(pkt)
  .register(crd)
  .register(crdkd)
  .register(sskd)
  // graph-based
  .register(irg)
  .register(lp)
  .register(mhgd)
  .register(hkd)
  .register(lsp)
  .register(ktg)
  .register(graphdistill)
  // online distillation
  .register(dml)
  .register(one)
  .register(kdcl)
  .register(rocket)
  .register(pcl)
  .register(dcm)
  // self-distillation
  .register(byot)
  .register(tfkdself)
  .register(tfkdvirtual)
  .register(cskd)
  .register(ban)
  .register(snapshot)
  .register(ddgsd)
  // NAS-based
  .register(nasrandom)
  .register(nasevo)
  // lifelong (class-incremental)
  .register(finetune)
  .register(joint)
  .register(lwf)
  .register(icarl)
  // quantized
  .register(qat)
  .register(quantdistill)
  .register(apprentice)
  .register(qkd)
  // multi-teacher
  .register(avgkd)
  .register(youmt)
  .register(randteacher)
  .register(aekd)
  .register(camkd)
  .register(twoteacher)
  .register(noisyteacher)
  // cross-modal
  .register(modalitylabeled)
  .register(modalitykd)
  .register(suptransfer)
  .register(crdcrossmodal)
  // adversarial
  .register(abm)
  .register(cganlogits)
  .register(advfeat)
  .register(meal)
  .register(afd)
  // data-free
  .register(dafl)
  .register(deepinv)
  .register(dfad)
  .register(zskt);
