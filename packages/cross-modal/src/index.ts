/** @kdbench/cross-modal: cross-modal distillation on modalities derived from CIFAR images (survey section 5.3). */
import type { MethodDefinition } from '@kdbench/core';
import { suptransfer } from './suptransfer.js';
import { modalitylabeled } from './modalitylabeled.js';
import { modalitykd } from './modalitykd.js';
import { crdcrossmodal } from './crdcrossmodal.js';

export { suptransfer } from './suptransfer.js';
export { modalitylabeled } from './modalitylabeled.js';
export { modalitykd } from './modalitykd.js';
export { crdcrossmodal } from './crdcrossmodal.js';
export { ModalityModel, modalityStudent, normalizationFor, studentModality, STUDENT_MODALITIES } from './shared/modality.js';

export const crossModalMethods: MethodDefinition<any>[] = [suptransfer, modalitylabeled, modalitykd, crdcrossmodal];
